package sim

import "testing"

func TestQuickForm(t *testing.T) {
	for _, b := range []Bounds{
		{Devices: 2, UserAnswers: 1, Advances: 2, Eager: true},
		{Devices: 2, UserAnswers: 1, Advances: 1, Eager: false},
		{Devices: 2, UserAnswers: 1, Advances: 2, Eager: true, Drops: 1, Dups: 1},
		{Devices: 3, Grouped: []int{0, 1}, UserAnswers: 1, Advances: 1, Eager: true, MaxStates: 300000},
	} {
		st, f := Check(nil, b)
		t.Log(st, f)
	}
}
