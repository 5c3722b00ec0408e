import JSON
import Logging

// MARK: - The dynamic base URL

extension Session {
    /// Persists the route when a response moved it (or a host-not-found moved it back),
    /// so a restart keeps talking to where the service sent this application.
    func keepRoute() {
        guard let route = api?.route.snapshot, route != (state.route ?? BaseURLRoute(configured: route.configured)) else { return }
        if route.current != state.route?.current ?? route.configured {
            logger.notice("the Mobile API moved this application", metadata: ["baseURL": .string(route.current)])
        }
        state.route = route
        persist()
    }

    /// With the production base URL, asks `GET /mobile/1/baseurl` once a day, on the
    /// lane, without holding up `init` (both SDKs do it at start).
    func checkBaseURLIfDue() {
        guard let api, api.route.snapshot.needsCheck(now: clock.now) else { return }
        let epoch = self.epoch
        _ = lane.admit { [self] in await self.checkBaseURL(api: api, epoch: epoch) }
    }

    private func checkBaseURL(api: MobileAPIClient, epoch: Int) async {
        do throws(MobileMessagingError) {
            let answer = try await api.fetchBaseURL()
            guard isCurrent(epoch) else { return }
            if let answer { api.route.follow(answer) }
            // Checked: not again for a day, whatever it said (an error tries again next start).
            api.route.checked(at: clock.now)
            keepRoute()
        } catch {
            logger.debug("the base URL check failed; tried again at the next start", metadata: ["code": .string(error.code)])
        }
    }
}
