"""All WTForms forms live in this package, one module per audience or feature."""
