import JSON

/// One app installation as the Mobile API knows it.
///
/// Field names follow the wrappers' Installation object; ``fields`` maps them to the
/// server's names. `deviceTimezoneId` and the server's `deviceTimezoneOffset` carry the
/// same string unchanged in both directions: the core has no time-zone database and
/// does not turn a zone id into an offset or back, so whatever the app or the server
/// wrote there is what the other side sees.
public struct Installation: WireRecord {
    public var pushRegistrationId: String?
    public var isPrimaryDevice: Bool?
    public var isPushRegistrationEnabled: Bool?
    public var notificationsEnabled: Bool?
    public var sdkVersion: String?
    public var appVersion: String?
    public var os: String?
    public var osVersion: String?
    public var deviceManufacturer: String?
    public var deviceModel: String?
    public var deviceSecure: Bool?
    public var language: String?
    public var deviceTimezoneId: String?
    public var applicationUserId: String?
    public var deviceName: String?
    public var customAttributes: JSONObject?
    /// Server-only: the push service and its device token (not in the wrappers' shape).
    public var pushServiceType: String?
    public var pushServiceToken: String?

    public init() {}

    static var fields: [RecordField<Installation>] {
        [
            RecordField("pushRegistrationId", api: "pushRegId", .string(\.pushRegistrationId), .readOnly),
            RecordField("isPrimaryDevice", api: "isPrimary", .bool(\.isPrimaryDevice)),
            RecordField("isPushRegistrationEnabled", api: "regEnabled", .bool(\.isPushRegistrationEnabled)),
            RecordField("notificationsEnabled", .bool(\.notificationsEnabled)),
            RecordField("sdkVersion", .string(\.sdkVersion)),
            RecordField("appVersion", .string(\.appVersion)),
            RecordField("os", .string(\.os)),
            RecordField("osVersion", .string(\.osVersion)),
            RecordField("deviceManufacturer", .string(\.deviceManufacturer)),
            RecordField("deviceModel", .string(\.deviceModel)),
            RecordField("deviceSecure", .bool(\.deviceSecure)),
            RecordField("language", .string(\.language)),
            RecordField("deviceTimezoneId", api: "deviceTimezoneOffset", .string(\.deviceTimezoneId)),
            RecordField("applicationUserId", .string(\.applicationUserId)),
            RecordField("deviceName", .string(\.deviceName)),
            RecordField("customAttributes", .attributes(\.customAttributes)),
            RecordField("pushServiceType", .string(\.pushServiceType), .serverOnly),
            RecordField("pushServiceToken", .string(\.pushServiceToken), .serverOnly),
        ]
    }
}

// MARK: - Conversions

extension Installation {
    /// From the Mobile API's shape (`pushRegId`, `isPrimary`, `regEnabled`, ...).
    public init(api object: JSONObject) {
        self = Self.readFields(api: object)
    }

    /// The Mobile API's shape of the fields that are set.
    public var apiJSON: JSONValue { .object(apiFields()) }

    /// The wrappers' shape of the fields that are set.
    public var wrapperJSON: JSONValue { .object(wrapperFields()) }

    /// Reads a wrapper Installation object as a change to save. `pushRegistrationId`
    /// is accepted (so a fetched installation can be saved back) but never sent: the
    /// installation saved is always this one.
    static func update(from value: JSONValue, path: String = "installation") throws(InvalidParameter) -> RecordUpdate<Installation> {
        try parseUpdate(WireInput(value, path: path))
    }
}
