import JSON

/// What a custom event property holds. The names are what the admin API and the page use.
enum EventPropertyType: String, Sendable, CaseIterable, Equatable {
    case string
    case number
    case boolean
    /// `yyyy-MM-dd` or an ISO 8601 date-time, as a string.
    case date
    /// An array of flat objects.
    case list
}

struct EventPropertyDefinition: Sendable, Equatable {
    var name: String
    var type: EventPropertyType

    var json: JSONValue { ["name": .string(name), "type": .string(type.rawValue)] }
}

/// A custom event definition as the admin API receives it, validated:
/// `{"definitionId", "name"?, "properties"?: [{"name", "type"}]}`.
struct EventDefinitionInput: Sendable {
    var definitionId: String
    var name: String
    var properties: [EventPropertyDefinition]

    init(_ object: JSONObject) throws(ServiceError) {
        let reader = FieldReader(object)
        try reader.rejectUnknown(allowed: ["definitionId", "name", "properties"])
        guard let idValue = reader.value("definitionId") else {
            throw .requestFormatInvalid("definitionId is required")
        }
        definitionId = try Validate.nonEmptyString(idValue, field: "definitionId")
        guard definitionId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
            throw .requestFormatInvalid("definitionId must be letters, digits, '_', '-' or '.'")
        }
        if let value = reader.value("name"), !value.isNull {
            name = try Validate.nonEmptyString(value, field: "name")
        } else {
            name = definitionId
        }
        properties = []
        guard let value = reader.value("properties"), !value.isNull else { return }
        guard let array = value.arrayValue else {
            throw .requestFormatInvalid("properties must be an array, got \(value.typeName)")
        }
        guard array.count <= Limits.count else {
            throw .requestFormatInvalid("properties has more than \(Limits.count) entries")
        }
        for (index, element) in array.enumerated() {
            let field = "properties[\(index)]"
            guard let property = element.objectValue else {
                throw .requestFormatInvalid("\(field) must be an object with name and type, got \(element.typeName)")
            }
            let propertyReader = FieldReader(property, prefix: field + ".")
            try propertyReader.rejectUnknown(allowed: ["name", "type"])
            guard let nameValue = property["name"], let typeValue = property["type"] else {
                throw .requestFormatInvalid("\(field) needs name and type")
            }
            let name = try Validate.nonEmptyString(nameValue, field: "\(field).name")
            let typeName = try Validate.string(typeValue, field: "\(field).type")
            guard let type = EventPropertyType(rawValue: typeName) else {
                let names = EventPropertyType.allCases.map(\.rawValue).joined(separator: ", ")
                throw .requestFormatInvalid("\(field).type must be one of \(names), got \(typeName)")
            }
            guard !properties.contains(where: { $0.name == name }) else {
                throw .requestFormatInvalid("\(field).name \(name) is defined twice")
            }
            properties.append(EventPropertyDefinition(name: name, type: type))
        }
    }
}
