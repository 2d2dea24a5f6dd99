"""Service settings, read from the environment or a `.env` file."""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the bridge can be configured with; one instance per app."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        "sqlite:///./hiloop.db", validation_alias="HILOOP_DATABASE_URL"
    )
    log_level: str = Field("INFO", validation_alias="HILOOP_LOG_LEVEL")
    default_timeout_seconds: int = Field(
        3600, ge=1, le=604_800, validation_alias="HILOOP_DEFAULT_TIMEOUT_SECONDS"
    )
    public_url: str | None = Field(None, validation_alias="HILOOP_PUBLIC_URL")

    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(
        None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "HILOOP_SLACK_API_URL"),
    )

    # Requests a second each agent may make (sustained, and at once); 0 is no cap.
    rate_limit_per_second: float = Field(
        50.0, ge=0, validation_alias="HILOOP_RATE_LIMIT_PER_SECOND"
    )
    rate_limit_burst: int = Field(200, ge=1, validation_alias="HILOOP_RATE_LIMIT_BURST")

    # Share of an interaction's time after which its thread gets a reminder.
    reminder_share: float = Field(
        0.8, gt=0, lt=1, validation_alias="HILOOP_REMINDER_SHARE"
    )
    # How often the scheduler looks for deadlines and reminders whose job is
    # missing (after a restart, or fired on another replica).
    sweep_seconds: float = Field(2.0, gt=0, validation_alias="HILOOP_SWEEP_SECONDS")

    # How often the delivery worker looks for due Slack writes when nothing
    # woke it, and the longest wait between two attempts of one write.
    delivery_poll_seconds: float = Field(
        2.0, gt=0, validation_alias="HILOOP_DELIVERY_POLL_SECONDS"
    )
    delivery_max_backoff_seconds: float = Field(
        15.0, gt=0, validation_alias="HILOOP_DELIVERY_MAX_BACKOFF_SECONDS"
    )
    # How long one attempt may hold a Slack write before another worker (or
    # this one after a crash) may take it over. Slack calls time out well
    # within it.
    delivery_lease_seconds: float = Field(
        30.0, ge=2, validation_alias="HILOOP_DELIVERY_LEASE_SECONDS"
    )
