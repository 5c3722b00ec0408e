import JSON

/// What an app submitted, checked once at the edge: a definition made in the portal and
/// its properties in the form they are sent (see ``EventProperties``). Not stamped yet:
/// ``EventsService`` stamps it with the time of the call when it is admitted.
public struct CustomEventInput: Sendable, Equatable {
    let definitionId: String
    let properties: JSONObject?

    /// Reads the plugins' `{definitionId, properties?}`.
    ///
    /// - Throws: ``InvalidParameter`` naming the field: not an object, an unknown key, a
    ///   `definitionId` that is missing, not a string or blank (Android drops such an
    ///   event without a word; iOS sends it to be refused), a property of a kind the
    ///   plugins do not send, or an event larger than ``EventQueueLimits/maximumEventBytes``.
    public init(wrapper value: JSONValue, path: String = "event") throws(InvalidParameter) {
        try self.init(wrapper: value, path: path, limits: .standard)
    }

    init(wrapper value: JSONValue, path: String, limits: EventQueueLimits) throws(InvalidParameter) {
        let input = try WireInput(value, path: path)
        try input.rejectUnknownKeys(["definitionId", "properties"])
        guard case .value(let definitionId) = try input.string("definitionId") else {
            throw InvalidParameter(field: input.fieldPath("definitionId"), reason: "is required: the id of an event definition made in the portal")
        }
        guard definitionId.contains(where: { !$0.isWhitespace }) else {
            throw InvalidParameter(field: input.fieldPath("definitionId"), reason: "must not be blank")
        }
        self.definitionId = definitionId
        switch try input.object("properties") {
        case .absent, .null: properties = nil
        case .value(let object): properties = try EventProperties.parse(object)
        }
        let size = stamped(at: 0).apiJSON.serializedBytes.count
        guard size <= limits.maximumEventBytes else {
            throw InvalidParameter(field: path, reason: "is \(size) bytes as sent; one event may be at most \(limits.maximumEventBytes)")
        }
    }

    /// The event as it happened at `unixTime`.
    func stamped(at unixTime: Double) -> CustomEvent {
        CustomEvent(definitionId: definitionId, date: ISO8601Seconds.string(fromUnixTime: unixTime), properties: properties)
    }
}

/// One event as the Mobile API receives it (`POST .../user/events/custom`) and as the
/// event queue keeps it.
struct CustomEvent: Sendable, Equatable {
    let definitionId: String
    /// When it was submitted, `yyyy-MM-ddTHH:mm:ssZ` (``ISO8601Seconds``).
    let date: String
    let properties: JSONObject?

    /// `{definitionId, date, properties?}`.
    var apiJSON: JSONValue {
        var object: JSONObject = ["definitionId": .string(definitionId), "date": .string(date)]
        if let properties { object["properties"] = .object(properties) }
        return .object(object)
    }

    init(definitionId: String, date: String, properties: JSONObject?) {
        self.definitionId = definitionId
        self.date = date
        self.properties = properties
    }

    /// From the queue's file; `nil` when a field has the wrong type.
    init?(api object: JSONObject) {
        guard let definitionId = object["definitionId"]?.stringValue, let date = object["date"]?.stringValue else { return nil }
        switch object["properties"] {
        case nil, .null?: properties = nil
        case .object(let properties)?: self.properties = properties
        default: return nil
        }
        self.definitionId = definitionId
        self.date = date
    }
}
