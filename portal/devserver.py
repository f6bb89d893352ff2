"""The development server of ``make run``: werkzeug's, without a version banner.

``flask run`` answers every request with ``Server: Werkzeug/<version> Python/<version>``,
telling anyone which versions to look up vulnerabilities for. This server says
``Server: portal`` and logs its access lines through the masking filter of
portal.logmask (tokens of emailed links and query strings never reach the terminal).

``python -m portal.devserver [--host H] [--port P] [--debug]``.
"""

import argparse
import logging

from werkzeug.serving import WSGIRequestHandler, run_simple

from portal import logmask

SERVER_NAME = "portal"


class RequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, naming no software version."""

    def version_string(self):
        """The Server header: no product version, no Python version."""
        return SERVER_NAME


def main(argv=None):
    """Serve the portal until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true", help="reload on code changes (no debugger)")
    args = parser.parse_args(argv)

    from portal import create_app

    app = create_app()
    app.debug = args.debug
    logmask.install(logging.getLogger("werkzeug"))
    run_simple(
        args.host,
        args.port,
        app,
        threaded=True,
        use_reloader=args.debug,
        request_handler=RequestHandler,
    )


if __name__ == "__main__":
    main()
