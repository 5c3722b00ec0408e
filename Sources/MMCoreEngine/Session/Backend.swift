/// The configuration in force and the Mobile API client made from it, shared by the
/// parts of one generation. A repeated `init` for the same application replaces both
/// here, so calls already admitted send with the new settings, as they did before.
@EngineActor
final class Backend {
    private(set) var configuration: Configuration
    private(set) var api: MobileAPIClient
    /// Delays of background retries: the configuration's, else the session's default.
    private(set) var retryPolicy: RetryPolicy

    init(configuration: Configuration, api: MobileAPIClient, defaultRetryPolicy: RetryPolicy) {
        self.configuration = configuration
        self.api = api
        self.retryPolicy = configuration.retryPolicy(fallback: defaultRetryPolicy)
    }

    func reconfigure(_ configuration: Configuration, api: MobileAPIClient, defaultRetryPolicy: RetryPolicy) {
        self.configuration = configuration
        self.api = api
        self.retryPolicy = configuration.retryPolicy(fallback: defaultRetryPolicy)
    }
}
