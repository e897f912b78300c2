//go:build linux || darwin

package main

import (
	"os"
	"strconv"
	"syscall"
)

// ownListener tells whether this process holds a listening TCP socket bound
// to port (any address), by asking each of its open file descriptors.
func ownListener(port int) (ours, known bool) {
	for _, fd := range openFDs() {
		sa, err := syscall.Getsockname(fd)
		if err != nil {
			continue // not a socket
		}
		var p int
		switch a := sa.(type) {
		case *syscall.SockaddrInet4:
			p = a.Port
		case *syscall.SockaddrInet6:
			p = a.Port
		default:
			continue
		}
		if p != port {
			continue
		}
		if v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err == nil && v != 0 {
			return true, true
		}
	}
	return false, true
}

// openFDs lists the process's file descriptors (/proc/self/fd on Linux,
// /dev/fd on macOS; the first 1024 otherwise).
func openFDs() []int {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if ents, err := os.ReadDir(dir); err == nil {
			fds := make([]int, 0, len(ents))
			for _, e := range ents {
				if fd, err := strconv.Atoi(e.Name()); err == nil {
					fds = append(fds, fd)
				}
			}
			return fds
		}
	}
	fds := make([]int, 1024)
	for i := range fds {
		fds[i] = i
	}
	return fds
}
