@testable import MMCoreEngine

/// The error a throwing call threw, or `nil` when it returned.
func caught<T>(_ body: () async throws -> T) async -> (any Error)? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

func caughtError<T>(_ body: () async throws -> T) async -> MobileMessagingError? {
    await caught(body) as? MobileMessagingError
}
