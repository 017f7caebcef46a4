"""The national service inventory: service cards («شناسنامه خدمت»), life events and Persian search."""
