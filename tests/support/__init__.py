"""What the tests share: running the CLI (``clirunner``), child processes (``processes``), stub
servers and clients (``client_support``), webhook events (``webhook_support``), database checks
(``reliability``), raw sandbox calls (``sandbox_calls``) and the vendor's examples
(``vendor_examples``). Test modules import from here, never from one another; fixtures are in
``tests/conftest.py``."""
