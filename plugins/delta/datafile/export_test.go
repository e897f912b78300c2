package datafile

// SetDictMaxBytes sets the dictionary bound for a test and returns the undo.
func SetDictMaxBytes(n int) func() {
	old := dictMaxBytes
	dictMaxBytes = n
	return func() { dictMaxBytes = old }
}

// SetDictDecideValues sets how many values decide a dictionary for a test
// and returns the undo.
func SetDictDecideValues(n int) func() {
	old := dictDecideValues
	dictDecideValues = n
	return func() { dictDecideValues = old }
}

// SetDictRefreshFiles sets how often a file ignores the dictionary hints for
// a test and returns the undo.
func SetDictRefreshFiles(n int) func() {
	old := dictRefreshFiles
	dictRefreshFiles = n
	return func() { dictRefreshFiles = old }
}
