import Foundation
import JSON

/// The sizes the server accepts. One place, so the documentation can list them.
public enum Limits {
    /// Names, ids, versions, tags, email addresses...: every plain string field.
    public static let stringLength = 255
    /// A custom attribute's string value (dates and datetimes included).
    public static let customAttributeStringLength = 4096
    /// A push service token can be long.
    public static let pushServiceTokenLength = 4096
    /// Emails, phones, tags per person; custom attributes per person or installation;
    /// objects in one list attribute.
    public static let count = 100
    /// Keys in one object of a list attribute.
    public static let listObjectKeys = 50
    /// Events in one custom events request (a client's batch).
    public static let eventsPerRequest = 1000
    /// Request body size.
    public static let bodyBytes = 1 << 20
    /// All header field names and values of one request together: real clients send a
    /// few hundred bytes and a JWT, so 64 KiB is generous and a larger header is refused
    /// with the error shape.
    public static let headerBytes = 64 << 10
    /// What the HTTP parser itself accepts in one header field and in all of them:
    /// above ``headerBytes``, so that sizes in between reach the server's own refusal.
    /// Beyond this, hummingbird answers an empty 400 and closes (docs/mmserver.md).
    public static let parsedHeaderBytes = 4 << 20
    /// A dynamic base URL.
    public static let baseURLLength = 2048
}

/// Reads a JSON object field by field, naming the field in every refusal.
struct FieldReader {
    let object: JSONObject
    /// Prefix for field names in messages, e.g. `"userIdentity."`.
    let prefix: String

    init(_ object: JSONObject, prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    func name(_ key: String) -> String { prefix + key }

    /// Refuses any key outside `allowed`, and explains read-only ones.
    func rejectUnknown(allowed: Set<String>, readOnly: Set<String> = []) throws(ServiceError) {
        for key in object.keys where !allowed.contains(key) {
            if readOnly.contains(key) {
                throw .requestFormatInvalid("\(name(key)) is read-only and cannot be sent")
            }
            throw .requestFormatInvalid("Unknown field \(name(key))")
        }
    }

    /// `nil` when absent.
    func value(_ key: String) -> JSONValue? { object[key] }

    /// Absent -> `.keep`, `null` -> `.remove`, a string -> `.set`.
    func stringChange(_ key: String, maxLength: Int = Limits.stringLength) throws(ServiceError) -> FieldChange<String> {
        guard let value = object[key] else { return .keep }
        if value.isNull { return .remove }
        return .set(try Validate.string(value, field: name(key), maxLength: maxLength))
    }

    /// Absent or `null` -> `nil`; otherwise a boolean.
    func bool(_ key: String) throws(ServiceError) -> Bool? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let bool = value.boolValue else {
            throw .requestFormatInvalid("\(name(key)) must be a boolean, got \(value.typeName)")
        }
        return bool
    }
}

/// A change to one optional field: PATCH semantics.
enum FieldChange<Value: Sendable & Equatable>: Sendable, Equatable {
    case keep
    case set(Value)
    case remove

    func applied(to current: Value?) -> Value? {
        switch self {
        case .keep: current
        case .set(let value): value
        case .remove: nil
        }
    }
}

/// An email address or phone number as received, with the form it is unique in.
struct ContactInput: Sendable, Equatable {
    var value: String
    var normalized: String
    var preferred: Bool
}

enum Validate {
    static func string(_ value: JSONValue, field: String, maxLength: Int = Limits.stringLength) throws(ServiceError) -> String {
        guard let string = value.stringValue else {
            throw .requestFormatInvalid("\(field) must be a string, got \(value.typeName)")
        }
        guard string.count <= maxLength else {
            throw .requestFormatInvalid("\(field) is longer than \(maxLength) characters")
        }
        return string
    }

    static func nonEmptyString(_ value: JSONValue, field: String) throws(ServiceError) -> String {
        let string = try self.string(value, field: field)
        guard !string.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .requestFormatInvalid("\(field) must not be empty")
        }
        return string
    }

    /// An absolute `http`/`https` URL with a host and nothing but a path after it (no
    /// user, query or fragment), since clients append `/mobile/1/...` to it; a trailing
    /// `/` is dropped for the same reason.
    static func baseURL(_ value: JSONValue, field: String) throws(ServiceError) -> String {
        let text = try string(value, field: field, maxLength: Limits.baseURLLength)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", components.host?.isEmpty == false, components.user == nil,
            components.password == nil, components.query == nil, components.fragment == nil
        else {
            throw .requestFormatInvalid(
                "\(field) must be an absolute http or https URL without user, query or fragment, e.g. http://127.0.0.1:8080")
        }
        var normalized = text
        while normalized.hasSuffix("/") { normalized.removeLast() }
        return normalized
    }

    // MARK: Email and phone

    /// A pragmatic address check: one `@`, a dot-atom local part, a domain of at least two
    /// labels ending in a letters-only top-level label.
    static func email(_ address: String) throws(ServiceError) -> String {
        guard isValidEmail(address) else { throw .emailInvalid(address) }
        return address.lowercased()
    }

    static func isValidEmail(_ address: String) -> Bool {
        guard address.utf8.count <= Limits.stringLength else { return false }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0]
        let domain = parts[1]
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")
        let localAtoms = local.split(separator: ".", omittingEmptySubsequences: false)
        guard !local.isEmpty, local.count <= 64,
            localAtoms.allSatisfy({ !$0.isEmpty && $0.allSatisfy(localAllowed.contains) })
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != "-", label.last != "-",
                label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return false }
        }
        guard let top = labels.last, top.count >= 2, top.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return true
    }

    /// An international number: an optional `+` then 5 to 15 digits (E.164's bound).
    /// Unique by its digits, so `+385...` and `385...` are the same number.
    static func phone(_ number: String) throws(ServiceError) -> String {
        var digits = Substring(number)
        if digits.first == "+" { digits = digits.dropFirst() }
        guard (5...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .phoneInvalid(number)
        }
        return String(digits)
    }

    /// A list of `{"address": ...}` (or `{"number": ...}`) objects; plain strings are
    /// accepted too, since that is how the wrappers hold them.
    static func contacts(
        _ value: JSONValue, field: String, kind: ContactRecord.Kind
    ) throws(ServiceError) -> [ContactInput] {
        if value.isNull { return [] }
        guard let array = value.arrayValue else {
            throw .requestFormatInvalid("\(field) must be an array, got \(value.typeName)")
        }
        guard array.count <= Limits.count else {
            throw .requestFormatInvalid("\(field) has more than \(Limits.count) entries")
        }
        let key = kind == .email ? "address" : "number"
        var result: [ContactInput] = []
        for (index, element) in array.enumerated() {
            let elementField = "\(field)[\(index)]"
            let raw: String
            var preferred = false
            if let string = element.stringValue {
                raw = string
            } else if let object = element.objectValue {
                let reader = FieldReader(object, prefix: elementField + ".")
                try reader.rejectUnknown(allowed: [key, "preferred"])
                guard let inner = object[key] else {
                    throw .requestFormatInvalid("\(elementField).\(key) is missing")
                }
                raw = try string(inner, field: "\(elementField).\(key)")
                preferred = try reader.bool("preferred") ?? false
            } else {
                throw .requestFormatInvalid("\(elementField) must be an object with \(key), got \(element.typeName)")
            }
            let normalized = kind == .email ? try email(raw) : try phone(raw)
            // The same address twice in one list is one address.
            if let existing = result.firstIndex(where: { $0.normalized == normalized }) {
                result[existing].preferred = result[existing].preferred || preferred
                continue
            }
            result.append(ContactInput(value: raw, normalized: normalized, preferred: preferred))
        }
        return result
    }

    // MARK: Birthday, gender, tags

    /// `yyyy-MM-dd` naming a day that exists.
    static func birthday(_ text: String, field: String) throws(ServiceError) -> String {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else {
            throw .requestFormatInvalid("\(field) must be a real date written yyyy-MM-dd, got \(text)")
        }
        return text
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func gender(_ text: String, field: String) throws(ServiceError) -> String {
        guard text == "Male" || text == "Female" else {
            throw .requestFormatInvalid("\(field) must be Male or Female, got \(text)")
        }
        return text
    }

    static func tags(_ value: JSONValue, field: String) throws(ServiceError) -> [String] {
        if value.isNull { return [] }
        guard let array = value.arrayValue else {
            throw .requestFormatInvalid("\(field) must be an array of strings, got \(value.typeName)")
        }
        guard array.count <= Limits.count else {
            throw .requestFormatInvalid("\(field) has more than \(Limits.count) entries")
        }
        var tags: [String] = []
        for (index, element) in array.enumerated() {
            let tag = try nonEmptyString(element, field: "\(field)[\(index)]")
            if !tags.contains(tag) { tags.append(tag) }
        }
        return tags
    }

    // MARK: Custom attributes

    /// A custom attributes object as a list of changes: a `null` value removes the key.
    ///
    /// Values are strings (dates and datetimes are strings), numbers, booleans, or lists
    /// of flat objects whose values are themselves strings, numbers or booleans.
    static func customAttributeChanges(
        _ value: JSONValue, field: String
    ) throws(ServiceError) -> [(key: String, value: JSONValue?)] {
        guard let object = value.objectValue else {
            throw .requestFormatInvalid("\(field) must be an object, got \(value.typeName)")
        }
        guard object.count <= Limits.count else {
            throw .requestFormatInvalid("\(field) has more than \(Limits.count) attributes")
        }
        var changes: [(key: String, value: JSONValue?)] = []
        for key in object.keys {
            let name = "\(field).\(key)"
            guard !key.isEmpty, key.count <= Limits.stringLength else {
                throw .requestFormatInvalid("\(field) has a key that is empty or longer than \(Limits.stringLength) characters")
            }
            guard let member = object[key] else { continue }
            if member.isNull {
                changes.append((key, nil))
            } else {
                try customAttributeValue(member, field: name)
                changes.append((key, member))
            }
        }
        return changes
    }

    static func customAttributeValue(_ value: JSONValue, field: String) throws(ServiceError) {
        switch value {
        case .string, .number, .bool:
            try scalarAttribute(value, field: field)
        case .array(let items):
            guard items.count <= Limits.count else {
                throw .requestFormatInvalid("\(field) has more than \(Limits.count) items")
            }
            for (index, item) in items.enumerated() {
                let itemField = "\(field)[\(index)]"
                guard let object = item.objectValue else {
                    throw .requestFormatInvalid("\(itemField) must be an object (a list attribute holds objects), got \(item.typeName)")
                }
                guard object.count <= Limits.listObjectKeys else {
                    throw .requestFormatInvalid("\(itemField) has more than \(Limits.listObjectKeys) keys")
                }
                for member in object {
                    guard !member.key.isEmpty, member.key.count <= Limits.stringLength else {
                        throw .requestFormatInvalid("\(itemField) has a key that is empty or longer than \(Limits.stringLength) characters")
                    }
                    try scalarAttribute(member.value, field: "\(itemField).\(member.key)")
                }
            }
        case .null, .object:
            throw .requestFormatInvalid(
                "\(field) must be a string, number, boolean, date or list of objects, got \(value.typeName)")
        }
    }

    static func scalarAttribute(_ value: JSONValue, field: String) throws(ServiceError) {
        switch value {
        case .string(let string):
            guard string.count <= Limits.customAttributeStringLength else {
                throw .requestFormatInvalid("\(field) is longer than \(Limits.customAttributeStringLength) characters")
            }
        case .number(let number):
            guard number.doubleValue.isFinite else { throw .requestFormatInvalid("\(field) is not a finite number") }
        case .bool:
            break
        default:
            throw .requestFormatInvalid("\(field) must be a string, number or boolean, got \(value.typeName)")
        }
    }
}
