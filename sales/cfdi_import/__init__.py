"""Building an invoice from a CFDI stamped elsewhere (the seed's "Enlazar a Factura" B):
the template, the concordance, the learned product associations and accepting it."""
