import Testing

@testable import MMCoreEngine

@Suite struct RetryPolicyTests {
    @Test func doublesFromTheInitialDelayUpToTheCap() {
        let policy = RetryPolicy(initialDelay: .seconds(5), maximumDelay: .seconds(60))
        #expect((1...6).map { policy.delay(afterFailures: $0) } == [.seconds(5), .seconds(10), .seconds(20), .seconds(40), .seconds(60), .seconds(60)])
        #expect(policy.delay(afterFailures: 0) == .seconds(5))
        #expect(policy.delay(afterFailures: 1_000) == .seconds(60))
    }

    @Test func standardIsFiveSecondsToFiveMinutes() {
        #expect(RetryPolicy.standard == RetryPolicy(initialDelay: .seconds(5), maximumDelay: .seconds(300)))
    }
}

@Suite struct RetryJitterTests {
    let policy = RetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(8))

    @Test(arguments: 1...6)
    func fullJitterStaysWithinZeroAndTheExponentialCeiling(failures: Int) {
        let ceiling = policy.delay(afterFailures: failures)
        #expect(policy.jitteredDelay(afterFailures: failures, unit: 0) == .zero)
        #expect(policy.jitteredDelay(afterFailures: failures, unit: 1) == ceiling)
        var drawn: Set<Duration> = []
        for _ in 0..<200 {
            let delay = policy.jitteredDelay(afterFailures: failures)
            #expect(delay >= .zero && delay <= ceiling)
            drawn.insert(delay)
        }
        #expect(drawn.count > 20, "the delays are spread, not one fixed value")
    }

    @Test func retryAfterIsAFloor() {
        #expect(policy.jitteredDelay(afterFailures: 1, retryAfter: 3, unit: 0) == .seconds(3))
        #expect(policy.jitteredDelay(afterFailures: 4, retryAfter: 3, unit: 1) == .seconds(8), "a longer backoff wins")
        for _ in 0..<100 { #expect(policy.jitteredDelay(afterFailures: 1, retryAfter: 2.5) >= .milliseconds(2500)) }
    }

    @Test func theConfigurationShortensThePolicy() throws {
        let configuration = try Configuration(json: ["applicationCode": "a", "retryBaseDelaySeconds": 0.05, "retryMaxDelaySeconds": 0.4])
        #expect(
            configuration.retryPolicy(fallback: .standard)
                == RetryPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(400)))
        let defaults = try Configuration(json: ["applicationCode": "a"])
        #expect(defaults.retryPolicy(fallback: .standard) == .standard)
        #expect(defaults.userDataJwtProviderTimeoutSeconds == 10)
    }
}

@Suite struct PendingChangeMergeTests {
    @Test func theLastWritePerFieldWins() {
        let merged = PendingChange.mergedBody(["firstName": "A", "lastName": "B"], ["firstName": "C", "gender": .null])
        #expect(merged == ["firstName": "C", "lastName": "B", "gender": .null])
    }

    @Test func customAttributesMergeKeyByKey() {
        let merged = PendingChange.mergedBody(
            ["customAttributes": ["a": 1, "b": 2]], ["customAttributes": ["b": 3, "c": .null]])
        #expect(merged == ["customAttributes": ["a": 1, "b": 3, "c": .null]])
    }

    @Test func clearingEveryAttributeThenSettingOneCannotBeOneBody() {
        #expect(PendingChange.mergedBody(["customAttributes": .null], ["customAttributes": ["a": 1]]) == nil)
        #expect(PendingChange.mergedBody(["customAttributes": ["a": 1]], ["customAttributes": .null]) == ["customAttributes": .null])
    }

    @Test func applyingABodyAsTheServerDoes() {
        let applied = PendingChange.applying(
            ["firstName": "C", "lastName": .null, "customAttributes": ["a": .null, "b": 2]],
            to: ["firstName": "A", "lastName": "B", "customAttributes": ["a": 1]])
        #expect(applied == ["firstName": "C", "customAttributes": ["b": 2]])
    }
}
