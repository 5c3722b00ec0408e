import JSON

// MARK: - Custom events (codes of this server's choosing; the service's are not public)

extension ServiceError {
    static func eventDefinitionNotFound(_ definitionId: String) -> ServiceError {
        ServiceError(.notFound, "EVENT_DEFINITION_NOT_FOUND", "No event definition \(definitionId) in this application")
    }
    static func eventDefinitionExists(_ definitionId: String) -> ServiceError {
        ServiceError(.conflict, "EVENT_DEFINITION_EXISTS", "An event definition \(definitionId) already exists")
    }

    /// `validate=true` and an event does not fit: 400, one code per kind of misfit.
    static func eventRejected(_ problem: EventProblem) -> ServiceError {
        let messageId =
            switch problem {
            case .unknownDefinition: "EVENT_DEFINITION_NOT_FOUND"
            case .undefinedProperty: "EVENT_PROPERTY_NOT_DEFINED"
            case .invalidValue: "EVENT_PROPERTY_INVALID"
            }
        return ServiceError(.badRequest, messageId, problem.description)
    }
}
