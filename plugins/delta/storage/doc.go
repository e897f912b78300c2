// Package storage is where a Delta table lives: a local folder or an S3
// prefix, behind one interface, Storage, whose one hard primitive is
// PutIfAbsent. A Delta commit is the creation of the file of the next
// version: of several writers creating it at once exactly one must win, and a
// reader must never see it half written. Everything else (reads, listings,
// data files replaced whole, deletes) is ordinary. As delta-rs registers its
// log stores by URL scheme, Open picks the storage from the table's location:
// s3:// (or s3a://) is S3, file:// or a plain path is the local disk.
//
//   - Local: a commit is a temporary file, synced, then hard-linked to its
//     name; link(2) fails with EEXIST when another writer won. Data files are
//     written to a temporary file and renamed. CheckWritable tells, before
//     anything is written, whether the folder can hold a table.
//   - S3 (AWS S3, MinIO, through minio-go): a commit is a conditional PUT
//     (If-None-Match: *); 412 means another writer won. Multipart uploads
//     become visible only when completed. Credentials never appear in
//     errors or in Location.
//
// OpenFile opens a file for ranged reads (a data file is read a row group at
// a time): a local file, or an S3 object read in 1 MiB blocks with ranged
// GETs, a few blocks cached.
//
// A missing file is ErrNotExist, a lost race ErrExist, a local path under a
// regular file ErrNotADirectory (wrapped, for errors.Is).
//
// # Files
//
//   - storage.go: the Storage interface and its contract, Open, ListAfter
//   - local.go: the local file system
//   - s3.go: S3 and S3-compatible stores
//   - file.go: File and OpenFile, ranged reads of both storages
package storage
