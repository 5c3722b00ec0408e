import JSON

/// The methods a connection serves: each with its parameter names in positional order.
///
/// A method's handler receives ``Parameters`` already normalised from either form of
/// `params` and returns the `result`. Throwing a ``JSONRPCErrorConvertible`` error answers
/// with its error object; any other error answers ``JSONRPCError/internalError``.
public struct MethodRegistry: Sendable {
    public typealias Handler = @Sendable (Parameters) async throws -> JSONValue

    struct Method: Sendable {
        let parameterNames: [String]
        let handler: Handler
    }

    private var methods: [String: Method] = [:]

    public init() {}

    /// Registers `name`. `parameters` are the parameter names in the order a client gives
    /// them by position (`["pushRegistrationId", "primary"]`).
    public mutating func register(_ name: String, parameters: [String] = [], handler: @escaping Handler) {
        precondition(methods[name] == nil, "method \(name) is registered twice")
        precondition(Set(parameters).count == parameters.count, "method \(name) repeats a parameter name")
        methods[name] = Method(parameterNames: parameters, handler: handler)
    }

    /// The registered method names, sorted.
    public var methodNames: [String] { methods.keys.sorted() }

    /// The declared parameter names of `method`, `nil` if it is not registered.
    public func parameterNames(of method: String) -> [String]? { methods[method]?.parameterNames }

    /// Finds `method` and normalises `params` for it: the step that turns a request into
    /// a call, or into the error that answers it.
    public func resolve(method: String, params: JSONValue?) -> Result<(Handler, Parameters), JSONRPCError> {
        guard let entry = methods[method] else { return .failure(.methodNotFound(method)) }
        let names = entry.parameterNames
        var values = JSONObject()
        switch params {
        case nil:
            break
        case .array(let elements)?:
            guard elements.count <= names.count else {
                let takes = names.isEmpty ? "no parameters" : "at most \(names.count) (\(names.joined(separator: ", ")))"
                return .failure(.invalidParams(field: "params", "has \(elements.count) elements; \(method) takes \(takes)"))
            }
            for (name, element) in zip(names, elements) { values[name] = element }
        case .object(let object)?:
            for name in names { if let value = object[name] { values[name] = value } }
        case let other?:
            return .failure(.invalidParams(field: "params", "must be an array or an object, got \(other.typeName)"))
        }
        return .success((entry.handler, Parameters(method: method, values: values)))
    }
}
