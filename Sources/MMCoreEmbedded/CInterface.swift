import CMMCore
import CoreService
import JSONRPC
import MMCoreBridge
import MMCoreEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The C interface declared in Sources/CMMCore/include/mmcore.h (its comments are the
// contract). The header's types are imported, so the struct layout and the callback
// signatures are the C compiler's, not a Swift copy of them. Nothing here traps on what
// a host passes: every bad argument is a status code.

// MARK: Opening and closing

@_cdecl("mmcore_open")
public func mmcore_open(_ options: UnsafePointer<mmcore_options>?, _ handle: UnsafeMutablePointer<mmcore_handle>?) -> Int32 {
    guard let options, let handle else { return MMCORE_ERROR_NULL_ARGUMENT }
    // `size` first: the rest of the struct may be shorter than ours (an older host).
    let size = UnsafeRawPointer(options).load(as: Int.self)
    guard size >= MemoryLayout<mmcore_options>.size else { return MMCORE_ERROR_INVALID_ARGUMENT }
    let given = options.pointee
    guard let directoryPointer = given.state_directory, let output = given.output else {
        return MMCORE_ERROR_NULL_ARGUMENT
    }
    let directory = String(cString: directoryPointer)
    guard !directory.isEmpty, let logLevel = HostCallbacks.level(given.log_level),
        let maxLineBytes = positive(given.max_line_bytes, default: LineFramer.defaultMaxLineBytes),
        let maxMessagesInFlight = positive(given.max_messages_in_flight, default: Connection.Options().maxMessagesInFlight)
    else { return MMCORE_ERROR_INVALID_ARGUMENT }

    let settings = EmbeddedCore.Settings(
        stateDirectory: directory, logLevel: logLevel, maxLineBytes: maxLineBytes,
        maxMessagesInFlight: maxMessagesInFlight)
    do {
        handle.pointee = try OpenCores.open(directory: directory) {
            EmbeddedCore(settings: settings, callbacks: HostCallbacks(output: output, log: given.log, context: given.context))
        }
        return MMCORE_OK
    } catch {
        return MMCORE_ERROR_STATE_DIRECTORY_IN_USE
    }
}

@_cdecl("mmcore_input")
public func mmcore_input(_ core: mmcore_handle, _ bytes: UnsafeRawPointer?, _ length: Int) -> Int32 {
    // size_t arrives as Int: a length past Int.max is negative here, and no buffer is that long.
    guard length >= 0 else { return MMCORE_ERROR_INVALID_ARGUMENT }
    guard bytes != nil || length == 0 else { return MMCORE_ERROR_NULL_ARGUMENT }
    guard let embedded = OpenCores.core(core) else { return MMCORE_ERROR_CLOSED }
    return embedded.input(UnsafeRawBufferPointer(start: bytes, count: length)) ? MMCORE_OK : MMCORE_ERROR_CLOSED
}

@_cdecl("mmcore_close")
public func mmcore_close(_ core: mmcore_handle) -> Int32 {
    guard !isInsideCallback else { return MMCORE_ERROR_IN_CALLBACK }
    return OpenCores.close(core) ? MMCORE_OK : MMCORE_ERROR_CLOSED
}

/// `value` when positive, `fallback` when 0, `nil` when it does not fit an `Int`.
private func positive(_ value: Int, default fallback: Int) -> Int? {
    value == 0 ? fallback : value > 0 ? value : nil
}

// MARK: About this build

@_cdecl("mmcore_version")
public func mmcore_version() -> UnsafePointer<CChar> {
    StaticText.version
}

@_cdecl("mmcore_schema")
public func mmcore_schema() -> UnsafePointer<CChar> {
    StaticText.schema
}

@_cdecl("mmcore_method_names")
public func mmcore_method_names() -> UnsafePointer<CChar> {
    StaticText.methodNames
}

/// C strings that live as long as the process (the header promises static storage).
/// Each is made on first use; a global's initializer runs once, thread-safely.
private enum StaticText {
    // nonisolated(unsafe): written once by the initializer, never mutated or freed after.
    nonisolated(unsafe) static let version = UnsafePointer(strdup(CoreVersion.current)!)
    nonisolated(unsafe) static let schema = UnsafePointer(strdup(OpenRPCDocument.text)!)
    nonisolated(unsafe) static let methodNames = UnsafePointer(
        strdup(BridgeMethods.all.map { $0.name }.joined(separator: "\n") + "\n")!)
}
