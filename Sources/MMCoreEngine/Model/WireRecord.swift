import JSON

/// One field of a model and how it travels: its name in the wrappers' shape, its name
/// in the Mobile API's shape, its kind, and who may write it.
///
/// The models declare a table of these, so that reading, writing and diffing both
/// shapes is written once instead of once per field and per direction.
struct RecordField<Record> {
    enum Kind {
        /// `check` returns the reason a wrapper value is refused, or `nil`.
        case string(WritableKeyPath<Record, String?>, check: ((String) -> String?)? = nil)
        case bool(WritableKeyPath<Record, Bool?>)
        /// A list of strings; on the server each element is an object holding the
        /// string under `objectKey` (`phones: [{"number": ...}]`) when it is set.
        case list(WritableKeyPath<Record, [String]?>, objectKey: String? = nil)
        case attributes(WritableKeyPath<Record, JSONObject?>)
    }

    enum Access {
        /// Accepted from the wrapper and sent in a PATCH when it changed.
        case writable
        /// Shown to the wrapper and accepted back (so a fetched object can be saved
        /// again as is), but never sent: the server owns it (`type`, `pushRegistrationId`).
        case readOnly
        /// Kept from the server's copy; not part of the wrappers' shape. Accepted from
        /// the wrapper (type-checked) and ignored, for wrappers that write every field
        /// they know back (Flutter's `Installation.toJson`).
        case serverOnly
    }

    let wrapperKey: String
    let apiKey: String
    let kind: Kind
    let access: Access

    init(_ wrapperKey: String, api apiKey: String? = nil, _ kind: Kind, _ access: Access = .writable) {
        self.wrapperKey = wrapperKey
        self.apiKey = apiKey ?? wrapperKey
        self.kind = kind
        self.access = access
    }
}

/// A model described by a table of ``RecordField``s.
protocol WireRecord: Sendable, Equatable {
    init()
    static var fields: [RecordField<Self>] { get }
}

extension WireRecord {
    /// Reads the Mobile API's shape leniently: a field of an unexpected type is left
    /// out rather than failing the whole answer, since the server is the authority.
    static func readFields(api object: JSONObject) -> Self {
        var record = Self()
        for field in fields {
            let value = object[field.apiKey]
            switch field.kind {
            case .string(let path, _): record[keyPath: path] = value?.stringValue
            case .bool(let path): record[keyPath: path] = value?.boolValue
            case .list(let path, let objectKey):
                record[keyPath: path] = value?.arrayValue.map { elements in
                    elements.compactMap { element in
                        if let text = element.stringValue { return text }
                        guard let objectKey else { return nil }
                        return element[objectKey]?.stringValue
                    }
                }
            case .attributes(let path): record[keyPath: path] = CustomAttributes.lenient(value)
            }
        }
        return record
    }

    /// The Mobile API's shape of every field that is set, as the server sends it
    /// (phones and emails as objects): what the state file keeps.
    func apiFields() -> JSONObject {
        var object = JSONObject()
        for field in Self.fields {
            if let value = apiValue(of: field) { object[field.apiKey] = value }
        }
        return object
    }

    /// The wrappers' shape of every field that is set; unset fields are left out.
    func wrapperFields() -> JSONObject {
        var object = JSONObject()
        for field in Self.fields where field.access != .serverOnly {
            switch field.kind {
            case .string(let path, _): if let text = self[keyPath: path] { object[field.wrapperKey] = .string(text) }
            case .bool(let path): if let flag = self[keyPath: path] { object[field.wrapperKey] = .bool(flag) }
            case .list(let path, _):
                if let list = self[keyPath: path] { object[field.wrapperKey] = .array(list.map { .string($0) }) }
            case .attributes(let path): if let attributes = self[keyPath: path] { object[field.wrapperKey] = .object(attributes) }
            }
        }
        return object
    }

    /// The value of `field` in the Mobile API's shape, `nil` when unset.
    func apiValue(of field: RecordField<Self>) -> JSONValue? {
        switch field.kind {
        case .string(let path, _): return self[keyPath: path].map { .string($0) }
        case .bool(let path): return self[keyPath: path].map { .bool($0) }
        case .list(let path, let objectKey):
            return self[keyPath: path].map { list in
                .array(list.map { text in objectKey.map { .object([$0: .string(text)]) } ?? .string(text) })
            }
        case .attributes(let path): return self[keyPath: path].map { .object($0) }
        }
    }

    /// Reads wrapper input strictly. Writable fields are recorded in the update; read-only
    /// and server-only ones are type-checked and ignored; `otherKeys` are the caller's to
    /// read; any other key is refused.
    static func parseUpdate(_ input: WireInput, otherKeys: Set<String> = []) throws(InvalidParameter) -> RecordUpdate<Self> {
        try input.rejectUnknownKeys(Set(fields.map(\.wrapperKey)).union(otherKeys))
        var update = RecordUpdate<Self>()
        for field in fields {
            let key = field.wrapperKey
            if field.access == .serverOnly {
                try typeCheck(field, in: input)
                continue
            }
            let mentioned: Bool
            switch field.kind {
            case .string(let path, let check):
                let read = try input.string(key)
                if let text = read.value, let check, let reason = check(text) {
                    throw InvalidParameter(field: input.fieldPath(key), reason: reason)
                }
                update.values[keyPath: path] = read.value
                mentioned = read.isMentioned
            case .bool(let path):
                let read = try input.bool(key)
                update.values[keyPath: path] = read.value
                mentioned = read.isMentioned
            case .list(let path, _):
                let read = try input.strings(key)
                update.values[keyPath: path] = read.value
                mentioned = read.isMentioned
            case .attributes(let path):
                let read = try input.object(key)
                if let attributes = read.value {
                    let parsed = try CustomAttributes.parse(attributes)
                    update.values[keyPath: path] = parsed.values
                    update.deletedAttributes = parsed.deleted
                }
                mentioned = read.isMentioned
            }
            if mentioned && field.access == .writable { update.mentioned.insert(key) }
        }
        return update
    }

    /// Refuses a value of the wrong kind for `field` without keeping it.
    private static func typeCheck(_ field: RecordField<Self>, in input: WireInput) throws(InvalidParameter) {
        let key = field.wrapperKey
        switch field.kind {
        case .string: _ = try input.string(key)
        case .bool: _ = try input.bool(key)
        case .list: _ = try input.strings(key)
        case .attributes: if case .value(let attributes) = try input.object(key) { _ = try CustomAttributes.parse(attributes) }
        }
    }
}

/// What a wrapper asked to change: the values it gave, which writable fields it
/// mentioned (a mentioned field whose value is `nil` was given as `null`: clear it),
/// and which custom attributes it set to `null` (delete them).
struct RecordUpdate<Record: WireRecord>: Sendable, Equatable {
    var values = Record()
    var mentioned: Set<String> = []
    var deletedAttributes: [String] = []

    /// The PATCH body: only what differs from `base`, the last known server copy.
    ///
    /// Without a base every mentioned field is sent (a `null` too, since the server may
    /// hold a value). Custom attributes merge key by key, as the Mobile API stores them:
    /// a left-out attribute is kept, an attribute set to `null` is deleted, and
    /// `customAttributes: null` deletes every attribute the server copy holds.
    func patchBody(base: Record?) -> JSONObject {
        var body = JSONObject()
        for field in Record.fields where field.access == .writable && mentioned.contains(field.wrapperKey) {
            if case .attributes(let path) = field.kind {
                if let attributes = attributesPatch(values[keyPath: path], base: base.map { $0[keyPath: path] }) {
                    body[field.apiKey] = attributes
                }
                continue
            }
            let new = values.apiValue(of: field)
            if let base, base.apiValue(of: field) == new { continue }
            body[field.apiKey] = new ?? .null
        }
        return body
    }

    /// `base` is `nil` when there is no server copy, `.some(nil)` when the copy has none.
    private func attributesPatch(_ new: JSONObject?, base: JSONObject??) -> JSONValue? {
        guard let new else {
            // customAttributes: null
            switch base {
            case nil: return .null
            case .some(let known?) where !known.isEmpty: return .object(JSONObject(known.keys.map { ($0, .null) }))
            default: return nil
            }
        }
        let known = base.flatMap { $0 }
        var patch = JSONObject()
        for member in new where base == nil || known?[member.key] != member.value {
            patch[member.key] = member.value
        }
        for key in deletedAttributes where base == nil || known?[key] != nil {
            patch[key] = .null
        }
        return patch.isEmpty ? nil : .object(patch)
    }
}
