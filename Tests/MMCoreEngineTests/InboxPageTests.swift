import JSON
import Testing

@testable import MMCoreEngine

@Suite struct InboxPageTests {
    static let internalData: JSONValue = [
        "inbox": ["topic": "promo", "seen": true], "sendDateTime": 1_700_000_000_000,
        "atts": [["url": "https://img.example/a.png"]], "deeplink": "app://offer", "inAppOpenTitle": "Open",
    ]

    /// The same message in the three shapes the core reads.
    static let shapes: [(name: String, message: JSONValue)] = [
        (
            "gcm",
            [
                "gcm.notification.messageId": "m1", "gcm.notification.title": "Hi", "gcm.notification.body": "Text",
                "gcm.notification.sound": "default", "gcm.notification.vibrate": "false", "gcm.notification.silent": "false",
                "customPayload": "{\"k\":\"v\"}", "internalData": .string(InboxPageTests.internalData.serialized),
            ]
        ),
        (
            "apns",
            [
                "messageId": "m1", "aps": ["alert": ["title": "Hi", "body": "Text"], "sound": "default"], "customPayload": ["k": "v"],
                "internalData": InboxPageTests.internalData, "vibrate": false,
            ]
        ),
        (
            "plain",
            [
                "messageId": "m1", "title": "Hi", "body": "Text", "sound": "default", "vibrate": false, "silent": false,
                "customPayload": ["k": "v"], "internalData": InboxPageTests.internalData,
            ]
        ),
    ]

    @Test(arguments: shapes)
    func everyShapeIsAnsweredInOneModel(name: String, message: JSONValue) throws {
        let read = try #require(InboxMessage(server: message))
        #expect(
            read.wrapperJSON == [
                "messageId": "m1", "topic": "promo", "seen": true, "title": "Hi", "body": "Text", "sound": "default", "vibrate": false,
                "silent": false, "customPayload": ["k": "v"], "internalData": .string(Self.internalData.serialized),
                "contentUrl": "https://img.example/a.png", "deeplink": "app://offer", "inAppOpenTitle": "Open",
                "sentTimestamp": 1_700_000_000_000, "receivedTimestamp": 1_700_000_000_000,
            ], "\(name)")
    }

    @Test func aMessageWithoutAnIdIsLeftOutAndNoInboxDataIsUnseenWithoutATopic() throws {
        #expect(InboxMessage(server: ["title": "No id"]) == nil)
        let bare = try #require(InboxMessage(server: ["messageId": "m2"]))
        #expect(bare.wrapperJSON == ["messageId": "m2", "seen": false, "silent": false])
    }

    @Test func theServersAnswerIsReadAndAnUnreadableOneRefused() throws {
        let page = try #require(InboxPage(server: ["countTotal": 3, "countUnread": 1, "messages": [["messageId": "a"], ["title": "x"]]]))
        #expect(page.countTotal == 3 && page.countUnread == 1 && page.messages.map(\.messageId) == ["a"])
        #expect(page.countTotalFiltered == nil && page.wrapperJSON["countTotalFiltered"] == nil)
        #expect(InboxPage(server: [:]) == InboxPage(countTotal: 0, countUnread: 0, messages: []))
        #expect(InboxPage(server: ["countTotal": "3", "messages": []]) == nil)
        #expect(InboxPage(server: ["messages": ["a": 1]]) == nil)
    }

    static func message(_ id: String, topic: String, seen: Bool = false) -> InboxMessage {
        InboxMessage(server: ["messageId": .string(id), "internalData": ["inbox": ["topic": .string(topic), "seen": .bool(seen)]]])!
    }

    @Test func severalTopicsAreFilteredHereWithTheFilteredCountsThenCutToTheLimit() {
        let page = InboxPage(
            countTotal: 5, countUnread: 4,
            messages: [
                Self.message("1", topic: "a"), Self.message("2", topic: "b", seen: true), Self.message("3", topic: "c"),
                Self.message("4", topic: "a"), Self.message("5", topic: "b"),
            ])
        let filtered = page.filtered(byTopics: ["a", "b"], limit: 2)
        #expect(filtered.messages.map(\.messageId) == ["1", "2"])
        #expect(filtered.countTotalFiltered == 4 && filtered.countUnreadFiltered == 3)
        #expect(filtered.countTotal == 5 && filtered.countUnread == 4, "the inbox's own counts stay")
        #expect(page.filtered(byTopics: ["a"], limit: nil).messages.map(\.messageId) == ["1", "4"])
    }

    @Test func marksStillQueuedShowAsSeenAndRead() {
        let page = InboxPage(
            countTotal: 2, countUnread: 1, countTotalFiltered: 2, countUnreadFiltered: 1,
            messages: [Self.message("1", topic: "a"), Self.message("2", topic: "a", seen: true)])
        let marked = page.markingSeen(["1", "2", "elsewhere"])
        #expect(marked.messages.allSatisfy { $0.seen })
        #expect(marked.countUnread == 0 && marked.countUnreadFiltered == 0, "only a message shown unseen is counted once")
        #expect(page.markingSeen([]) == page)
    }
}
