"""What every JSON API endpoint shares: the error shape (errors), form-backed fields
(fields), the schema's examples and hook (schema), and the docs pages (docs)."""
