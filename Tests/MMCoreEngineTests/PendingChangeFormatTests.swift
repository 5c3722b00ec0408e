import JSON
import Testing

@testable import MMCoreEngine

/// Queued changes are what the core promised to deliver: an entry this version cannot
/// read is reported (and kept in the file moved aside), never dropped quietly and then
/// erased by the next save.
@Suite struct PendingChangeFormatTests {
    static let valid = #"{"id": "1", "kind": "depersonalize", "pushRegistrationId": "r", "createdAt": 1, "attempts": 0, "nextAttemptAt": 1}"#

    @Test(arguments: [
        (#"{"id": 7, "kind": "depersonalize", "pushRegistrationId": "r"}"#, "pending change 2: id is not a string"),
        (#"{"kind": "depersonalize", "pushRegistrationId": "r"}"#, "pending change 2: id is not a string"),
        (#"{"id": "2", "kind": 3, "pushRegistrationId": "r"}"#, "pending change 2: kind is not a string"),
        (#"{"id": "2", "pushRegistrationId": "r"}"#, "pending change 2: kind is not a string"),
        (#"{"id": "2", "kind": "saveUser", "pushRegistrationId": null}"#, "pending change 2: pushRegistrationId is not a string"),
        (#"{"id": "2", "kind": "saveUser", "pushRegistrationId": "r", "body": "x"}"#, "pending change 2: body is not an object"),
        (#"{"id": "2", "kind": "saveUser", "pushRegistrationId": "r", "createdAt": "now"}"#, "pending change 2: createdAt is not a number"),
        (#"{"id": "2", "kind": "saveUser", "pushRegistrationId": "r", "attempts": 1.5}"#, "pending change 2: attempts is not an integer"),
        (#"{"id": "2", "kind": "saveUser", "pushRegistrationId": "r", "nextAttemptAt": true}"#, "pending change 2: nextAttemptAt is not a number"),
        (#"{"id": "1", "kind": "saveUser", "pushRegistrationId": "r"}"#, "pending change 2: id 1 is used twice"),
        (#""just a string""#, "pending change 2: not an object"),
    ])
    func aMalformedPendingChangeIsReportedNotDropped(entry: String, reason: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        let content = #"{"formatVersion": 1, "pendingChanges": ["# + Self.valid + ", " + entry + "]}"
        writeFile(store.statePath, content)

        let error = try #require(throws: MobileMessagingError.self) { try store.load(now: 1_800_000_000) }
        #expect(error.code == "STATE_CORRUPTED")
        #expect(error.description.contains(reason), "\(error.description)")
        #expect(readFile(store.statePath + ".corrupt-1800000000") == Array(content.utf8), "kept, moved aside, for a person")
    }

    @Test func aPendingChangeOfAnUnknownKindIsKeptAndWrittenBack() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        let newer = #"{"id": "9", "kind": "somethingNewer", "pushRegistrationId": "r", "extra": [1, 2]}"#
        writeFile(store.statePath, #"{"formatVersion": 1, "pendingChanges": ["# + newer + ", " + Self.valid + "]}")

        var state = try store.load(now: 0)
        #expect(state.pendingChanges.map(\.id) == ["1"], "this version delivers only what it knows")
        #expect(state.unrecognizedPendingChanges == [JSONValue(parsing: newer).objectValue!])

        state.pendingChanges.removeAll()
        try store.save(state, includeUser: true)
        let saved = try JSONParser.parse(#require(readFile(store.statePath)))
        #expect(saved["pendingChanges"] == JSONValue(parsing: "[" + newer + "]"), "written back verbatim, for the version that knows it")
        #expect(try store.load(now: 0) == state)
    }
}
