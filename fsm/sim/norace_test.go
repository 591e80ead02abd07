//go:build !race

package sim

// raceDetector is true in a build with the race detector (see race_test.go).
const raceDetector = false
