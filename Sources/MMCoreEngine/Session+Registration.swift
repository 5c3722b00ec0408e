import JSON
import Logging

// MARK: - Registration of this installation

extension Session {
    /// Starts registering this installation unless it has an id or an attempt runs.
    func startRegistrationIfNeeded() {
        guard state.installation?.pushRegistrationId == nil, !registration.isRunning, let api else { return }
        let epoch = self.epoch
        var installation = Installation()
        installation.os = Self.platformName
        installation.sdkVersion = CoreVersion.current
        installation.isPushRegistrationEnabled = true
        // The transport bounds the exchange; this bounds the attempt as a whole, so a
        // transport that never answers cannot leave the registration stuck.
        let deadline = Duration.milliseconds(Int64(api.timeoutSeconds * 1000)) + .seconds(1)
        logger.debug("registering the installation")
        registration.begin { attempt in
            Task {
                let result = await Self.register(installation, api: api, deadline: deadline)
                self.finishRegistration(result, attempt: attempt, epoch: epoch)
            }
        }
    }

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

    private func finishRegistration(_ result: Result<Installation, MobileMessagingError>, attempt: Int, epoch: Int) {
        guard isCurrent(epoch), registration.isCurrent(attempt) else { return }
        switch result {
        case .success(let installation):
            registration.finish(succeeded: true)
            state.installation = installation
            persist()
            let id = installation.pushRegistrationId ?? ""
            logger.debug("registered", metadata: ["pushRegistrationId": .string(id)])
            emit(.registrationUpdated, .string(id))
            registration.resumeAll(.success(id))
            schedulePendingWork(after: .zero)
            kickCustomEventDelivery()
        case .failure(let error):
            registration.finish(succeeded: false)
            logger.warning("registration failed", metadata: ["code": .string(error.code), "description": .string(error.description)])
            registration.resumeAll(.failure(error))
            // A transient failure (timeout included) is retried in the background; any
            // other one (e.g. an unknown application code) only when a call needs the
            // registration again.
            guard error.isTransient else { return }
            let delay = retries.policy.delay(afterFailures: registration.failures)
            registration.retryTimer = Task {
                try? await Task.sleep(for: delay)
                guard !Task.isCancelled else { return }
                self.retryRegistration(epoch: epoch)
            }
        }
    }

    private func retryRegistration(epoch: Int) {
        guard isCurrent(epoch) else { return }
        registration.retryTimer = nil
        startRegistrationIfNeeded()
    }

    /// This installation's pushRegistrationId, waiting for the registration (started
    /// now if none runs) at most the request timeout.
    ///
    /// - Throws: the registration's error, or `NO_REGISTRATION` when it did not finish in time.
    func registeredInstallationID() async throws(MobileMessagingError) -> String {
        if let id = state.installation?.pushRegistrationId { return id }
        let timeout = try requireConfiguration().requestTimeoutSeconds
        startRegistrationIfNeeded()
        let id = registration.reserveWaiterID()
        // The timer cannot fire before the continuation is stored: both run on this actor.
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
            guard !Task.isCancelled else { return }
            self.expireRegistrationWaiter(id, timeout: timeout)
        }
        let result = await withCheckedContinuation { continuation in
            registration.addWaiter(id, RegistrationState.Waiter(continuation: continuation, timer: timer))
        }
        return try result.get()
    }

    private func expireRegistrationWaiter(_ id: Int, timeout: Double) {
        guard let waiter = registration.removeWaiter(id) else { return }
        waiter.continuation.resume(
            returning: .failure(
                .noRegistration(
                    "This installation is not registered yet: the registration did not finish within \(formatSeconds(timeout)) seconds.")))
    }
}
