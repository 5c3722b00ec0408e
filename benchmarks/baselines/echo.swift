// The Swift floor: the smallest Swift program that answers a line, built as mmcore's
// release is (benchmarks/run builds it with scripts/release's flags). Start-up against
// it is what mmcore adds over any Swift executable: the runtime's own start is in both.
#if canImport(Glibc)
import Glibc
#endif

// stdout is a pipe: fully buffered by default, so a line would sit in the buffer while
// the driver waits for it. Line buffering answers each line as it is read.
setvbuf(stdout, nil, _IOLBF, 0)
while let line = readLine() { print(line) }
