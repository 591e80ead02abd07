//go:build race

package sim

// raceDetector is true in a build with the race detector, which makes the
// model check about ten times slower: TestModelCheck then runs only its
// shallow bounds, and test.sh runs the deep ones without -race.
const raceDetector = true
