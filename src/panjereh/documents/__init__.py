"""Issued documents: signing, QR codes that verify offline, Persian PDFs, public verification, revocation."""
