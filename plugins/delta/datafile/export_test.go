package datafile

// SetDictMaxBytes sets the dictionary bound for a test and returns the undo.
func SetDictMaxBytes(n int) func() {
	old := dictMaxBytes
	dictMaxBytes = n
	return func() { dictMaxBytes = old }
}
