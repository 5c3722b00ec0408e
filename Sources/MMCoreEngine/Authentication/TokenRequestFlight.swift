/// The opt-in token provider's single flight: concurrent needs for a token share one
/// `requestUserDataJwt` to the wrapper, and the wait is bounded.
actor TokenRequestFlight {
    private let provider: any TokenProvider
    private var current: Task<String?, Never>?

    init(provider: any TokenProvider) {
        self.provider = provider
    }

    /// The wrapper's answer, `nil` when it has none or did not answer within `timeout`.
    func request(reason: TokenRequestReason, externalUserId: String?, timeout: Duration) async -> String? {
        if let current { return await current.value }
        let provider = provider
        let task = Task<String?, Never> {
            await withTaskGroup(of: String??.self) { group in
                group.addTask { .some(await provider.requestToken(reason: reason, externalUserId: externalUserId)) }
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return .none  // the deadline passed first
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first ?? nil
            }
        }
        current = task
        let answer = await task.value
        current = nil
        return answer
    }
}
