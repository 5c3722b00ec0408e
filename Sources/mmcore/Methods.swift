import JSON
import JSONRPC

/// The methods of the bridge contract with their parameters in positional order (the
/// order the wrappers' native bridges pass them). Each answers `NOT_IMPLEMENTED` until
/// the SDK core is wired in here.
let contractMethods: [(name: String, parameters: [String])] = [
    ("init", ["configuration"]),
    ("setUserDataJwt", ["jwt"]),
    ("saveUser", ["userData"]),
    ("fetchUser", []),
    ("getUser", []),
    ("personalize", ["context"]),
    ("depersonalize", []),
    ("saveInstallation", ["installation"]),
    ("fetchInstallation", []),
    ("getInstallation", []),
    ("setInstallationAsPrimary", ["pushRegistrationId", "primary"]),
    ("depersonalizeInstallation", ["pushRegistrationId"]),
    ("cleanup", []),
]

func registerMethods(into registry: inout MethodRegistry, bridge: Bridge) {
    for method in contractMethods {
        registry.register(method.name, parameters: method.parameters) { parameters in
            throw NotImplementedError(method: parameters.method)
        }
    }
}

/// The application error of a contract method this build does not implement yet.
struct NotImplementedError: JSONRPCErrorConvertible {
    let method: String

    var jsonRPCError: JSONRPCError {
        JSONRPCError(
            code: 1999, message: "Not implemented yet",
            data: [
                "code": "NOT_IMPLEMENTED", "description": .string("\(method) is not implemented yet"),
                "domain": "com.mobile-messaging",
            ])
    }
}
