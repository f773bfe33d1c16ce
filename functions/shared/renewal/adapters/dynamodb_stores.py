"""Stores and their staff in DynamoDB. Which store a staff member works for is our data, so it
can change or be revoked without issuing new tokens."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from renewal.adapters.dynamodb import aws_region, configured_table
from renewal.domain.stores import Store


class StoreModel(Model):
    class Meta:
        table_name = configured_table("STORES_TABLE")
        region = aws_region()

    store_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    address = UnicodeAttribute()
    currency = UnicodeAttribute()
    time_zone = UnicodeAttribute()
    tax_id = UnicodeAttribute(null=True)  # printed on the store's receipts
    last_receipt = NumberAttribute(null=True)

    def to_store(self) -> Store:
        return Store(self.store_id, self.name, self.address, self.currency, self.time_zone, self.tax_id or "")


class StaffModel(Model):
    class Meta:
        table_name = configured_table("STAFF_TABLE")
        region = aws_region()

    staff_id = UnicodeAttribute(hash_key=True)  # the Cognito sub
    store_id = UnicodeAttribute()
    name = UnicodeAttribute()  # the display name receipts and reports show
    active = BooleanAttribute(default=True)


class DynamoStores:
    def store_of_staff(self, staff_id: str) -> Store | None:
        try:
            staff = StaffModel.get(staff_id, consistent_read=True)
        except StaffModel.DoesNotExist:
            return None
        if not staff.active:
            return None
        try:
            return StoreModel.get(staff.store_id, consistent_read=True).to_store()
        except StoreModel.DoesNotExist:
            return None

    def store(self, store_id: str) -> Store | None:
        try:
            return StoreModel.get(store_id).to_store()
        except StoreModel.DoesNotExist:
            return None

    def staff_name(self, staff_id: str) -> str | None:
        try:
            return str(StaffModel.get(staff_id).name) or None
        except StaffModel.DoesNotExist:
            return None

    def last_receipt(self, store_id: str) -> int:
        return int(StoreModel.get(store_id, consistent_read=True).last_receipt or 0)
