"""The process: settings, wiring, polling/webhook, scheduler, delivery, logging."""
