import Testing

@testable import MobileMessaging

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
