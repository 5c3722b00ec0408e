import Dispatch

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Process-level set-up for a peer that speaks on stdin/stdout.
public enum StandardStreams {
    /// Gives the protocol its own copy of standard output and points descriptor 1 at
    /// standard error, so a stray `print` (ours or a dependency's) lands on stderr
    /// instead of corrupting the message stream.
    ///
    /// - Returns: the private output descriptor (close-on-exec), for ``Connection``.
    public static func takeStandardOutput() throws(SystemCallError) -> Int32 {
        let output = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
        guard output >= 0 else { throw SystemCallError(call: "fcntl(F_DUPFD_CLOEXEC) of stdout", errno: errno) }
        guard dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else {
            let error = SystemCallError(call: "dup2(stderr, stdout)", errno: errno)
            close(output)
            throw error
        }
        return output
    }

    /// Ignores SIGPIPE, so a write to a client that went away fails with `EPIPE`
    /// (which the writer treats as the end) instead of killing the process.
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }
}

/// A failed system call, with its `errno`.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
}

/// Runs a handler when the process receives a signal (SIGTERM, SIGINT), instead of the
/// signal's default action. Watching stops when the value is released or cancelled.
public final class SignalObserver: @unchecked Sendable {
    // @unchecked: `source` is configured in init, before it is shared; afterwards only
    // `cancel()` is called on it, which Dispatch documents as safe from any thread.
    private let source: any DispatchSourceSignal

    public init(signal number: Int32, handler: @escaping @Sendable () -> Void) {
        #if canImport(Darwin)
        // Dispatch sees signals through kqueue, beside the ordinary disposition: ignore it
        // so the default action (termination) does not run first.
        signal(number, SIG_IGN)
        #endif
        source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
    }

    public func cancel() { source.cancel() }

    deinit { source.cancel() }
}
