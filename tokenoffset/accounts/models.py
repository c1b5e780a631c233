import hashlib
import uuid
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person, identified by email. Tenancy lives on Account, not here."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self):
        return self.email


class Account(models.Model):
    """The tenant: owns the offset, estimate sources, samples, projections and billing."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by accounts.services.account_data_changed whenever a figure the dashboard shows may
    # have changed: the dashboard's cache key.
    data_version = models.PositiveBigIntegerField(default=0, editable=False)

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member (read-only)"


class Membership(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="one_membership_per_user")
        ]

    def __str__(self):
        return f"{self.user} in {self.account} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


INVITATION_VALID_FOR = timedelta(days=7)


def invitation_token_hash(token: str) -> str:
    """What we store of an invitation token: the link in the email is the only copy."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An owner's invitation for an email address to join an account as a member.

    Only the SHA-256 of the link's token is stored, so a database read gives no working link;
    an invitation expires ``INVITATION_VALID_FOR`` after it was sent.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="one_invitation_per_email")
        ]

    def __str__(self):
        return f"Invitation for {self.email} to {self.account}"

    @property
    def expires_at(self):
        return self.created_at + INVITATION_VALID_FOR

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
