package app

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// madvPageout asks the kernel to reclaim a range's pages now (Linux 5.4+).
const madvPageout = 21

// releaseStartupPages hands the kernel back the pages of the executable
// that only the start needed. The ~600 package initialisers (protobuf
// descriptors of whatsmeow, atlas's drivers, otel, …) are spread over
// the 30 MB of code and 35 MB of read-only data, and the kernel maps 64 KiB
// around every page they touch: about 45 MiB of a fresh server's RSS are
// clean pages of the file that serving never reads again. They stay in
// the page cache; a page a request needs comes back with a minor fault,
// without I/O. Only read-only mappings of the executable are advised:
// nothing the process wrote is touched.
func releaseStartupPages() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	var released int64
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		start, end, ok := readOnlyMappingOf(sc.Text(), exe)
		if !ok {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPageout); errno != 0 {
			return released, fmt.Errorf("madvise: %w", errno)
		}
		released += int64(end - start)
	}
	return released, sc.Err()
}

// readOnlyMappingOf parses one /proc/self/maps line ("start-end perms
// offset dev inode path") and reports the range when it maps path without
// write permission.
func readOnlyMappingOf(line, path string) (uintptr, uintptr, bool) {
	f := bytes.Fields([]byte(line))
	if len(f) < 6 || string(f[5]) != path || len(f[1]) < 2 || f[1][1] == 'w' {
		return 0, 0, false
	}
	from, to, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseUint(string(from), 16, 64)
	end, err2 := strconv.ParseUint(string(to), 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return 0, 0, false
	}
	return uintptr(start), uintptr(end), true
}
