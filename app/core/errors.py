"""What the core refuses, as small exceptions carrying the offending id."""


class BridgeError(Exception):
    """Base of every refusal the core makes on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(BridgeError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident} was not found")
        self.kind = kind
        self.ident = ident


class Conflict(BridgeError):
    """The change cannot be made in the interaction's current state."""

    def __init__(self, interaction_id: str, status: str, message: str) -> None:
        super().__init__(message)
        self.interaction_id = interaction_id
        self.status = status


class NotAllowed(BridgeError):
    """The person is not one of the agent's approvers."""

    def __init__(self, interaction_id: str, user_id: str) -> None:
        super().__init__(f"{user_id} may not decide interaction {interaction_id}")
        self.interaction_id = interaction_id
        self.user_id = user_id


class InvalidInput(BridgeError):
    """Input the core cannot accept, with the paths of the offending fields."""

    def __init__(self, message: str, details: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.details = details
