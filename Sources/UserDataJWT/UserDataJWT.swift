// Placeholder: replaced by the user-data JWT validation.
