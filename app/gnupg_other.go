//go:build !unix

package app

// ownPrivateDir reports whether dir is a folder of this user that no one
// else may open; off Unix keysync does not rely on one.
func ownPrivateDir(string) bool { return false }

// processGone reports whether no process has the id pid; off Unix it
// cannot tell, and says no.
func processGone(int) bool { return false }
