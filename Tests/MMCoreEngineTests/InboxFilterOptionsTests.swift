import JSON
import Testing

@testable import MMCoreEngine

@Suite struct InboxFilterOptionsTests {
    /// 2024-03-11T11:00:00Z in epoch milliseconds.
    static let elevenUTC: Int64 = 1_710_154_800_000

    static let dateForms: [(text: String, milliseconds: Int64)] = [
        ("2024-03-11T12:00:00+01:00", elevenUTC),  // Cordova's and React Native's documented form
        ("2024-03-11T11:00:00Z", elevenUTC),  // Flutter's toJson
        ("2024-03-11T12:00:00+0100", elevenUTC),  // Android's `Z` pattern
        ("2024-03-11T12:00:00+01", elevenUTC),  // Android's `X` pattern
        ("2024-03-11T06:30:00-04:30", elevenUTC),
        ("2024-03-11T11:00:00.000Z", elevenUTC),  // JavaScript's toISOString()
        ("2024-03-11T11:00:00.25Z", elevenUTC + 250),
        ("1970-01-01T00:00:00Z", 0),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
    ]

    @Test(arguments: dateForms)
    func dateTimesInThePluginsFormsAreEpochMilliseconds(text: String, milliseconds: Int64) {
        #expect(InboxDateTime.epochMilliseconds(text) == milliseconds)
    }

    @Test(arguments: [
        "2024-03-11", "2024-03-11T12:00:00", "2024-03-11T12:00+01:00", "2024-03-11 12:00:00Z", "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z", "2024-03-11T24:00:00Z", "2024-03-11T12:00:00+1:00", "2024-03-11T12:00:00+01:00 ", "1710154800000",
        "2024-03-11T12:00:00.Z", "2024-03-11T12:00:00+19:00", "2024-03-11t12:00:00z",
    ])
    func otherDateTimesAreRefusedWithTheExpectedForm(text: String) {
        #expect(InboxDateTime.epochMilliseconds(text) == nil)
        #expect(throws: InvalidParameter(field: "filterOptions.fromDateTime", reason: InboxDateTime.expectedForm)) {
            try InboxFilterOptions(argument: ["fromDateTime": .string(text)])
        }
    }

    @Test func absentNullAndEmptyAreNoFilter() throws {
        for value: JSONValue? in [nil, .null, [:], "{}", "null"] {
            let options = try InboxFilterOptions(argument: value)
            #expect(options == InboxFilterOptions())
            #expect(options.serverQuery.queryString == "")
        }
    }

    @Test func oneTopicIsAskedOfTheServer() throws {
        let options = try InboxFilterOptions(argument: [
            "fromDateTime": "2024-03-11T12:00:00+01:00", "toDateTime": "2024-03-20T12:00:00+01:00", "topic": "promo & more", "limit": 5,
        ])
        #expect(options.serverQuery.queryString == "?dateTimeFrom=1710154800000&dateTimeTo=1710932400000&messageTopic=promo%20%26%20more&limit=5")
    }

    @Test func severalTopicsFetchAThousandWithoutATopic() throws {
        let options = try InboxFilterOptions(argument: ["topics": ["a", "b"], "limit": 2])
        #expect(options.topics == ["a", "b"])
        #expect(options.serverQuery == InboxQuery(messageTopic: nil, limit: 1000))
        // An empty list filters nothing, as the iOS SDK reads it.
        #expect(try InboxFilterOptions(argument: ["topics": [], "limit": 3]).serverQuery == InboxQuery(limit: 3))
    }

    @Test func flutterPassesTheOptionsAsJSONText() throws {
        let options = try InboxFilterOptions(argument: "{\"fromDateTime\":\"2024-03-11T11:00:00Z\",\"topic\":\"news\",\"limit\":20}")
        #expect(options == InboxFilterOptions(fromDateTime: Self.elevenUTC, topic: "news", limit: 20))
    }

    static let refusals: [(value: JSONValue, field: String, reason: String)] = [
        (["topic": "a", "topics": ["b"]], "filterOptions", "has both topic and topics; give one of them"),
        (["topic": " "], "filterOptions.topic", "must not be blank"),
        (["topics": ["a", ""]], "filterOptions.topics[1]", "must not be blank"),
        (["topics": ["a", 1]], "filterOptions.topics[1]", "must be a string, got a number"),
        (["limit": 0], "filterOptions.limit", "must be a whole number of at least 1"),
        (["limit": 2.5], "filterOptions.limit", "must be a whole number of at least 1"),
        (["limit": "20"], "filterOptions.limit", "must be a number, got a string"),
        (["fromDateTime": 1_710_154_800_000], "filterOptions.fromDateTime", "must be a string, got a number"),
        (["topc": "a"], "filterOptions.topc", "is not a known field"),
        ([1], "filterOptions", "must be an object, got an array"),
        ("not json", "filterOptions", "must be an object (or a string holding a JSON object)"),
    ]

    @Test(arguments: refusals)
    func badOptionsNameTheirField(value: JSONValue, field: String, reason: String) {
        #expect(throws: InvalidParameter(field: field, reason: reason)) { try InboxFilterOptions(argument: value) }
    }
}
