import JSON
import Logging

/// The first registration of this installation (`POST /mobile/1/appinstance`): started
/// at `init` when there is no pushRegistrationId yet, retried in the background after a
/// transient failure, and awaited by the calls that need the id.
@EngineActor
final class Registration {
    private let backend: Backend
    private let state: LocalState
    private let logger: Logger
    /// Told when the installation has its id: queued work may go now.
    private let registered: () -> Void
    private var progress = RegistrationState()
    private var retryTimer: Task<Void, Never>?

    init(backend: Backend, state: LocalState, logger: Logger, registered: @escaping () -> Void) {
        self.backend = backend
        self.state = state
        self.logger = logger
        self.registered = registered
    }

    /// Starts registering this installation unless it has an id or an attempt runs.
    func startIfNeeded() {
        guard state.ownID == nil, !progress.isRunning, !state.isClosed else { return }
        let api = backend.api
        var installation = Installation()
        installation.os = Self.platformName
        installation.sdkVersion = CoreVersion.current
        installation.isPushRegistrationEnabled = true
        // The transport bounds the exchange; this bounds the attempt as a whole, so a
        // transport that never answers cannot leave the registration stuck.
        let deadline = Duration.milliseconds(Int64(api.timeoutSeconds * 1000)) + .seconds(1)
        logger.debug("registering the installation")
        retryTimer?.cancel()
        retryTimer = nil
        progress.begin { attempt in
            Task {
                let result = await Self.register(installation, api: api, deadline: deadline)
                self.finish(result, attempt: attempt)
            }
        }
    }

    /// This installation's pushRegistrationId, waiting for the registration (started
    /// now if none runs) at most the request timeout.
    ///
    /// - Throws: the registration's error, or `NO_REGISTRATION` when it did not finish in time.
    func installationID() async throws(MobileMessagingError) -> String {
        if let id = state.ownID { return id }
        let timeout = backend.configuration.requestTimeoutSeconds
        startIfNeeded()
        let id = progress.reserveWaiterID()
        // The timer cannot fire before the continuation is stored: both run on the engine's actor.
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
            guard !Task.isCancelled else { return }
            self.expireWaiter(id, timeout: timeout)
        }
        let result = await withCheckedContinuation { continuation in
            progress.addWaiter(id, RegistrationState.Waiter(continuation: continuation, timer: timer))
        }
        return try result.get()
    }

    /// Stops the attempt and the timer and fails the waiters: the state was wiped or the
    /// session shut down.
    func end(_ reason: String) {
        retryTimer?.cancel()
        retryTimer = nil
        progress.reset(.noRegistration(reason))
    }

    // MARK: Attempts

    private static func register(_ installation: Installation, api: MobileAPIClient, deadline: Duration) async -> Result<
        Installation, MobileMessagingError
    > {
        await withTaskGroup(of: Result<Installation, MobileMessagingError>?.self) { group in
            group.addTask {
                do throws(MobileMessagingError) {
                    return .success(try await api.registerInstallation(installation))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return Task.isCancelled ? nil : .failure(.timeout(seconds: api.timeoutSeconds))
            }
            var outcome: Result<Installation, MobileMessagingError> = .failure(.timeout(seconds: api.timeoutSeconds))
            if let first = await group.next(), let first { outcome = first }
            group.cancelAll()
            return outcome
        }
    }

    private func finish(_ result: Result<Installation, MobileMessagingError>, attempt: Int) {
        guard progress.isCurrent(attempt), !state.isClosed else { return }
        switch result {
        case .success(let installation):
            progress.finish(succeeded: true)
            state.register(installation)
            let id = installation.pushRegistrationId ?? ""
            logger.debug("registered", metadata: ["pushRegistrationId": .string(id)])
            progress.resumeAll(.success(id))
            registered()
        case .failure(let error):
            progress.finish(succeeded: false)
            logger.warning("registration failed", metadata: ["code": .string(error.code), "description": .string(error.description)])
            progress.resumeAll(.failure(error))
            // A transient failure (timeout included) is retried in the background; any
            // other one (e.g. an unknown application code) only when a call needs the
            // registration again.
            guard error.isTransient else { return }
            let delay = backend.retryPolicy.delay(afterFailures: progress.failures)
            retryTimer = Task {
                try? await Task.sleep(for: delay)
                guard !Task.isCancelled else { return }
                self.retryTimer = nil
                self.startIfNeeded()
            }
        }
    }

    private func expireWaiter(_ id: Int, timeout: Double) {
        guard let waiter = progress.removeWaiter(id) else { return }
        waiter.continuation.resume(
            returning: .failure(
                .noRegistration(
                    "This installation is not registered yet: the registration did not finish within \(formatSeconds(timeout)) seconds.")))
    }

    static var platformName: String {
        #if os(Linux)
            "Linux"
        #elseif os(macOS)
            "macOS"
        #elseif os(Windows)
            "Windows"
        #else
            "unknown"
        #endif
    }
}
