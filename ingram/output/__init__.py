"""What a person sees: progress bars, log lines, the live monitor and readable run reports.

May read ``ingram.state``; never imports ``ingram.api``, requests, ``ingram.cli`` or click.
"""
