"""Platform-neutral chat handlers: plain functions over the store, the relay state and ``knowledge``.

:func:`bot.handlers.router.handle` turns one message into one :class:`~bot.handlers.replies.Reply`
(or ``None``: stay silent); :func:`bot.handlers.router.handle_callback` does the same for a button
press. The Telegram and Slack front-ends only translate their updates into a
:class:`~bot.handlers.replies.Context` and render the reply.
"""
