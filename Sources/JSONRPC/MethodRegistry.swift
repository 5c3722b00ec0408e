import JSON

/// The methods a connection serves: each with its parameter names in positional order.
///
/// A method is served in two steps. Its *admission* runs when the message is read, one
/// message after another in the order they were read, and either answers at once or
/// returns the work that answers later; that work runs concurrently with other work.
/// A method that must take effect in call order (a serial lane behind it) takes its
/// place in that order during admission. A plain ``Handler`` is admitted at once and
/// runs as concurrent work.
///
/// Both steps receive ``Parameters`` already normalised from either form of `params`.
/// Throwing a ``JSONRPCErrorConvertible`` error answers with its error object; any other
/// error answers ``JSONRPCError/internalError``.
public struct MethodRegistry: Sendable {
    public typealias Handler = @Sendable (Parameters) async throws -> JSONValue
    /// Runs in read order; must not wait for other requests' work (it holds up reading).
    public typealias Admit = @Sendable (Parameters) async throws -> Admission

    struct Method: Sendable {
        let parameterNames: [String]
        let admit: Admit
    }

    private var methods: [String: Method] = [:]
    /// Where a caller of an unknown method can find the methods (see ``JSONRPCError/methodNotFound(_:hint:)``).
    private let methodNotFoundHint: String?

    public init(methodNotFoundHint: String? = nil) {
        self.methodNotFoundHint = methodNotFoundHint
    }

    /// Registers `name`. `parameters` are the parameter names in the order a client gives
    /// them by position (`["pushRegistrationId", "primary"]`).
    public mutating func register(_ name: String, parameters: [String] = [], handler: @escaping Handler) {
        register(admitting: name, parameters: parameters) { parameters in .running { try await handler(parameters) } }
    }

    /// Registers `name` with an admission step of its own (see the type's description).
    public mutating func register(admitting name: String, parameters: [String] = [], _ admit: @escaping Admit) {
        precondition(methods[name] == nil, "method \(name) is registered twice")
        precondition(Set(parameters).count == parameters.count, "method \(name) repeats a parameter name")
        methods[name] = Method(parameterNames: parameters, admit: admit)
    }

    /// The registered method names, sorted.
    public var methodNames: [String] { methods.keys.sorted() }

    /// The declared parameter names of `method`, `nil` if it is not registered.
    public func parameterNames(of method: String) -> [String]? { methods[method]?.parameterNames }

    /// Finds `method` and normalises `params` for it: the step that turns a request into
    /// a call, or into the error that answers it.
    public func resolve(method: String, params: JSONValue?) -> Result<(Admit, Parameters), JSONRPCError> {
        guard let entry = methods[method] else { return .failure(.methodNotFound(method, hint: methodNotFoundHint)) }
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
        return .success((entry.admit, Parameters(method: method, values: values)))
    }
}

/// What a method's admission decided.
public enum Admission: Sendable {
    /// Answered at admission: no work is left, and no task is started for it.
    case answered(JSONValue)
    /// Answered when this work finishes; it runs concurrently with other requests' work.
    case running(@Sendable () async throws -> JSONValue)
}
