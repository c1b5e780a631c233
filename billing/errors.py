"""What an owner's billing request can be refused with; views show the message as is."""


class OffsetError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PriceChanged(OffsetError):
    """The price shown on the confirmation page no longer holds; confirm again."""
