"""The local stack: emulator, gateway, task dispatcher, scheduler loop and demo seed."""
