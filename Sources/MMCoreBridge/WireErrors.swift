import JSONRPC
import MMCoreEngine

// MARK: - Errors on the wire

/// `{"code": <numeric>, "message": <description>, "data": {code, description, domain, ...}}`:
/// what Cordova/React Native error callbacks receive as `data`, and Flutter raises as
/// `PlatformException(code: data.code, message: data.description, details: data)`.
extension MobileMessagingError: JSONRPCErrorConvertible {
    public var jsonRPCError: JSONRPCError {
        JSONRPCError(code: JSONRPCError.Code(rawValue: numericCode), message: description, data: data)
    }
}

/// Malformed input is the caller's bug, not a state of the app: -32602 naming the field.
extension InvalidParameter: JSONRPCErrorConvertible {
    public var jsonRPCError: JSONRPCError {
        JSONRPCError.invalidParams(field: field, reason)
    }
}
