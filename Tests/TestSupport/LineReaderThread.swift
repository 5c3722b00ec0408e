import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads `descriptor` to its end on a thread of its own (never one of the cooperative
/// pool's), handing on every chunk as read and every line (without its newline; a last
/// line without one too), then calling `end`.
///
/// The descriptor is not closed: its owner closes it, after the end.
public func readLinesOnThread(
    _ descriptor: Int32, chunk: @escaping @Sendable ([UInt8]) -> Void = { _ in },
    line: @escaping @Sendable ([UInt8]) -> Void, end: @escaping @Sendable () -> Void
) {
    let thread = Thread {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            let bytes = Array(buffer[..<count])
            chunk(bytes)
            pending += bytes
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                line(Array(pending[start..<newline]))
                start = newline + 1
            }
            pending.removeSubrange(..<start)
        }
        if !pending.isEmpty { line(pending) }
        end()
    }
    thread.start()
}
