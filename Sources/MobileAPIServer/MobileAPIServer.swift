// Placeholder: replaced by the local Mobile API.
