// Placeholder: replaced by the SDK core.
