"""The demo bank: fictional customers and the loan products on offer.

Phone numbers are in ranges reserved for fiction (US 555-01xx, UK Ofcom 020 7946 0xxx).
Every card balance differs, so an answer can only be right for the customer who asked.
Due dates are days from the day of seeding, so they are always ahead.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class DemoAccount:
    kind: str
    nickname: str
    last4: str
    balance: Decimal


@dataclass(frozen=True)
class DemoCard:
    brand: str
    last4: str
    credit_limit: Decimal
    current_balance: Decimal
    statement_balance: Decimal
    minimum_payment: Decimal
    due_in_days: int
    status: str = "active"


@dataclass(frozen=True)
class DemoCustomer:
    full_name: str
    phone: str
    date_of_birth: date
    postal_code: str
    currency: str
    accounts: tuple[DemoAccount, ...]
    cards: tuple[DemoCard, ...]


@dataclass(frozen=True)
class DemoLoanProduct:
    code: str
    name: str
    kind: str
    apr_from: Decimal
    apr_to: Decimal
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    description: str


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        full_name="Ana Lopez",
        phone="+14155550101",
        date_of_birth=date(1988, 3, 14),
        postal_code="94110",
        currency="USD",
        accounts=(
            DemoAccount("checking", "Everyday Checking", "3011", Decimal("2847.53")),
            DemoAccount("savings", "High-Yield Savings", "3029", Decimal("12450.00")),
        ),
        cards=(
            DemoCard(
                brand="Visa",
                last4="4567",
                credit_limit=Decimal("5000.00"),
                current_balance=Decimal("1234.56"),
                statement_balance=Decimal("1100.00"),
                minimum_payment=Decimal("35.00"),
                due_in_days=12,
            ),
        ),
    ),
    DemoCustomer(
        full_name="Ben Carter",
        phone="+14155550102",
        date_of_birth=date(1979, 11, 2),
        postal_code="94103",
        currency="USD",
        accounts=(DemoAccount("checking", "Everyday Checking", "4820", Decimal("415.27")),),
        cards=(
            DemoCard(
                brand="Mastercard",
                last4="8899",
                credit_limit=Decimal("3000.00"),
                current_balance=Decimal("2874.10"),
                statement_balance=Decimal("2650.00"),
                minimum_payment=Decimal("85.00"),
                due_in_days=5,
            ),
        ),
    ),
    DemoCustomer(
        full_name="Chloe Nguyen",
        phone="+14155550103",
        date_of_birth=date(1995, 7, 21),
        postal_code="94605",
        currency="USD",
        accounts=(
            DemoAccount("checking", "Everyday Checking", "5507", Decimal("6120.88")),
            DemoAccount("savings", "Rainy Day Savings", "5515", Decimal("31002.40")),
        ),
        cards=(
            DemoCard(
                brand="Visa",
                last4="1111",
                credit_limit=Decimal("10000.00"),
                current_balance=Decimal("642.18"),
                statement_balance=Decimal("580.00"),
                minimum_payment=Decimal("25.00"),
                due_in_days=20,
            ),
            DemoCard(
                brand="Mastercard",
                last4="2222",
                credit_limit=Decimal("2500.00"),
                current_balance=Decimal("318.75"),
                statement_balance=Decimal("318.75"),
                minimum_payment=Decimal("25.00"),
                due_in_days=8,
                status="frozen",
            ),
        ),
    ),
    DemoCustomer(
        full_name="David Okafor",
        phone="+442079460958",
        date_of_birth=date(1983, 1, 30),
        postal_code="SE1 7PB",
        currency="GBP",
        accounts=(
            DemoAccount("checking", "Current Account", "6402", Decimal("1980.45")),
            DemoAccount("savings", "Easy Access Saver", "6410", Decimal("8750.00")),
        ),
        cards=(
            DemoCard(
                brand="Visa",
                last4="7788",
                credit_limit=Decimal("4000.00"),
                current_balance=Decimal("955.30"),
                statement_balance=Decimal("890.00"),
                minimum_payment=Decimal("26.70"),
                due_in_days=15,
            ),
        ),
    ),
)

DEMO_LOAN_PRODUCTS: tuple[DemoLoanProduct, ...] = (
    DemoLoanProduct(
        code="personal-loan",
        name="Personal Loan",
        kind="personal",
        apr_from=Decimal("7.99"),
        apr_to=Decimal("24.99"),
        min_amount=Decimal("1000.00"),
        max_amount=Decimal("50000.00"),
        min_term_months=12,
        max_term_months=84,
        description="Unsecured fixed-rate loan for debt consolidation, home projects "
        "or large purchases. No origination fee; funds as soon as the next business day.",
    ),
    DemoLoanProduct(
        code="auto-loan",
        name="Auto Loan",
        kind="auto",
        apr_from=Decimal("5.49"),
        apr_to=Decimal("14.99"),
        min_amount=Decimal("5000.00"),
        max_amount=Decimal("100000.00"),
        min_term_months=24,
        max_term_months=84,
        description="Fixed-rate financing for new and used vehicles, or to refinance "
        "an existing auto loan. The best rates need autopay from a Fintalk checking account.",
    ),
    DemoLoanProduct(
        code="mortgage-30-fixed",
        name="30-Year Fixed Mortgage",
        kind="home",
        apr_from=Decimal("6.25"),
        apr_to=Decimal("7.50"),
        min_amount=Decimal("100000.00"),
        max_amount=Decimal("2000000.00"),
        min_term_months=360,
        max_term_months=360,
        description="A home loan whose rate and principal-and-interest payment never "
        "change over 30 years. Down payments from 5%; private mortgage insurance below 20%.",
    ),
    DemoLoanProduct(
        code="mortgage-15-fixed",
        name="15-Year Fixed Mortgage",
        kind="home",
        apr_from=Decimal("5.50"),
        apr_to=Decimal("6.75"),
        min_amount=Decimal("100000.00"),
        max_amount=Decimal("2000000.00"),
        min_term_months=180,
        max_term_months=180,
        description="A lower rate than the 30-year loan and far less interest overall, "
        "for a higher monthly payment.",
    ),
    DemoLoanProduct(
        code="home-equity-line",
        name="Home Equity Line of Credit",
        kind="home_equity",
        apr_from=Decimal("7.75"),
        apr_to=Decimal("11.50"),
        min_amount=Decimal("10000.00"),
        max_amount=Decimal("500000.00"),
        min_term_months=120,
        max_term_months=360,
        description="A variable-rate line of credit secured by your home, up to 85% of "
        "its value less what you owe. Draw as needed for 10 years, then repay.",
    ),
    DemoLoanProduct(
        code="student-refinance",
        name="Student Loan Refinance",
        kind="student",
        apr_from=Decimal("4.99"),
        apr_to=Decimal("10.99"),
        min_amount=Decimal("5000.00"),
        max_amount=Decimal("300000.00"),
        min_term_months=60,
        max_term_months=240,
        description="Combine federal and private student loans into one fixed-rate loan. "
        "Refinancing federal loans gives up federal repayment and forgiveness programs.",
    ),
)
