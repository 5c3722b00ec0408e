import JSON
import Testing

@testable import MMCoreEngine

@Suite struct StateStoreTests {
    static func sampleState() -> PersistedState {
        var state = PersistedState(applicationCode: "app-1")
        state.installation = Installation(api: ["pushRegId": "reg-1", "regEnabled": true, "os": "Linux"])
        state.user = UserData(
            api: ["externalUserId": "ada", "phones": [["number": "1"]], "customAttributes": ["plan": "gold"], "instances": [["pushRegId": "reg-1"]]])
        state.pendingChanges = [
            PendingChange(id: "1", kind: .depersonalize, pushRegistrationId: "reg-1", createdAt: 1_800_000_000, attempts: 2, nextAttemptAt: 1_800_000_010)
        ]
        return state
    }

    @Test func roundTripThroughANewStore() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let store = try StateStore(directory: directory.stateDirectory)
            #expect(try store.load(now: 0) == PersistedState(), "a missing file is an empty state")
            try store.save(Self.sampleState(), includeUser: true)
        }
        let reopened = try StateStore(directory: directory.stateDirectory)
        #expect(try reopened.load(now: 0) == Self.sampleState())
    }

    @Test func modesAreOwnerOnly() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory + "/nested")
        try store.save(Self.sampleState(), includeUser: true)
        #expect(fileMode(directory.stateDirectory + "/nested") == 0o700)
        #expect(fileMode(directory.stateDirectory) == 0o700, "parents it creates too")
        #expect(fileMode(store.statePath) == 0o600)
        #expect(fileMode(store.lockPath) == 0o600)
    }

    @Test func writesLeaveNoTemporaryFileAndIgnoreAStaleOne() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(Self.sampleState(), includeUser: true)
        #expect(listDirectory(directory.stateDirectory) == ["state.json", "state.lock"])

        // A crash mid-write leaves a torn temporary file; the state file is untouched.
        writeFile(store.temporaryPath, #"{"formatVersion": 1, "applicationCode": "tor"#)
        #expect(try store.load(now: 0) == Self.sampleState())
        var changed = Self.sampleState()
        changed.user = nil
        try store.save(changed, includeUser: true)
        #expect(try store.load(now: 0) == changed)
        #expect(!fileExists(store.temporaryPath))

        // The file is always one complete document with a trailing newline.
        let bytes = try #require(readFile(store.statePath))
        #expect(bytes.last == 0x0A)
        #expect((try? JSONParser.parse(bytes)) != nil)
    }

    @Test func userIsLeftOutWhenPersistingIsDisabled() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(Self.sampleState(), includeUser: false)
        let saved = try JSONParser.parse(readFile(store.statePath)!)
        #expect(saved["user"] == nil)
        #expect(saved["installation"]?["pushRegId"] == "reg-1")
        #expect(saved["pendingChanges"]?.arrayValue?.count == 1)
        var expected = Self.sampleState()
        expected.user = nil
        #expect(try store.load(now: 0) == expected)
    }

    @Test func fileLayout() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(Self.sampleState(), includeUser: true)
        let saved = try JSONParser.parse(readFile(store.statePath)!)
        #expect(
            saved
                == JSONValue(
                    parsing: """
                        {"formatVersion": 1, "applicationCode": "app-1",
                         "installation": {"pushRegId": "reg-1", "regEnabled": true, "os": "Linux"},
                         "user": {"externalUserId": "ada", "phones": [{"number": "1"}], "customAttributes": {"plan": "gold"},
                                  "instances": [{"pushRegId": "reg-1"}]},
                         "pendingChanges": [{"id": "1", "kind": "depersonalize", "pushRegistrationId": "reg-1",
                                             "createdAt": 1800000000, "attempts": 2, "nextAttemptAt": 1800000010}]}
                        """))
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var first: StateStore? = try StateStore(directory: directory.stateDirectory)
        #expect(first != nil)
        // A separate open file description, as another process would have.
        let error = try #require(throws: MobileMessagingError.self) { try StateStore(directory: directory.stateDirectory) }
        #expect(error.code == "STATE_LOCKED")
        #expect(error.numericCode == 1401)
        #expect(error.description.contains(directory.stateDirectory))
        #expect(error.description.contains("(pid "))
        first = nil
        _ = try StateStore(directory: directory.stateDirectory)
    }

    @Test func anotherProcessIsRefusedToo() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store: StateStore? = try StateStore(directory: directory.stateDirectory)
        let lockPath = store!.lockPath
        // flock(1) in a child process exits 7 when it cannot take the lock, 0 when it can.
        let command = "flock --nonblock --conflict-exit-code 7 '\(lockPath)' true"
        #expect((runShell(command) >> 8) & 0xFF == 7, "a child process must not get the lock while the store holds it")
        store = nil
        #expect(runShell(command) == 0, "released with the store")
    }

    @Test(arguments: [
        ("not json at all", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (#"{"applicationCode": "app-1"}"#, "no formatVersion"),
        (#"{"formatVersion": 99}"#, "unknown formatVersion 99"),
        (#"{"formatVersion": 1, "installation": "x"}"#, "installation is not an object"),
        (#"{"formatVersion": 1, "pendingChanges": {}}"#, "pendingChanges is not an array"),
        ("", "not JSON"),
    ])
    func aCorruptFileIsMovedAsideAndReportedOnce(content: String, reason: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        writeFile(store.statePath, content)

        let error = try #require(throws: MobileMessagingError.self) { try store.load(now: 1_800_000_123) }
        let aside = store.statePath + ".corrupt-1800000123"
        #expect(error.code == "STATE_CORRUPTED")
        #expect(error.numericCode == 1402)
        #expect(error.description.contains(aside), "\(error.description)")
        #expect(error.description.contains(reason), "\(error.description)")
        #expect(readFile(aside) == Array(content.utf8), "moved aside, never discarded")
        #expect(!fileExists(store.statePath))
        #expect(try store.load(now: 1_800_000_124) == PersistedState(), "the next load starts clean")

        // A second corrupt file in the same second gets its own name.
        writeFile(store.statePath, "again")
        let second = try #require(throws: MobileMessagingError.self) { try store.load(now: 1_800_000_123) }
        #expect(second.description.contains(aside + "-2"))
    }

    @Test func aFileInTheWayIsUnavailable() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        writeFile(directory.path + "/file", "x")
        let error = try #require(throws: MobileMessagingError.self) { try StateStore(directory: directory.path + "/file") }
        #expect(error.code == "STATE_UNAVAILABLE")
        #expect(error.numericCode == 1403)
    }
}
