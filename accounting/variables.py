"""The named accounts that sales and warehouse postings use (the seed's "variables")."""

from django.db import models


class Variable(models.TextChoices):
    SALES_INCOME = "VEN_INGRESOS", "Cuenta de ingresos por ventas"
    IVA_TRANSFERRED = "VEN_IVA", "Cuenta de IVA trasladado"
    IEPS_TRANSFERRED = "VEN_IEPS", "Cuenta de IEPS trasladado"
    RETAINED_IVA = "VEN_RET_IVA", "Cuenta de retención de IVA"
    RETAINED_ISR = "VEN_RET_ISR", "Cuenta de retención de ISR"
    SALES_DISCOUNTS = "VEN_DESCUENTOS", "Cuenta de descuentos sobre ventas"
    RETURNS_REBATES = "VEN_DEVOLUCIONES", "Cuenta de devoluciones y rebajas sobre ventas"
    CUSTOMERS = "VEN_CLIENTES", "Cuenta de clientes"
    COST_OF_SALES = "VEN_COSTO", "Cuenta de costo de ventas"
    INVENTORY = "ALM_INVENTARIO", "Cuenta de inventario"
    CUSTOMER_ADVANCES = "VEN_ANTICIPOS", "Cuenta de anticipos de clientes"
    NO_PAYMENT_COUNTERPART = (
        "CC_VENNP",
        "Cuenta para registros de partida doble en ventas sin ningún tipo de cobro, ni crédito, ni contado",
    )


# Every posting of a sale checks these (the seed). Customer advances are checked only by the
# payments that leave an advance and the applications of one.
SALES_VARIABLES = [v.value for v in Variable if v != Variable.CUSTOMER_ADVANCES]
