"""The demo bank: fictional customers and the loan products on offer.

Phone numbers are in ranges reserved for fiction (US 555-01xx, UK Ofcom 020 7946 0xxx).
Every card balance differs, so an answer can only be right for the customer who asked.
Due dates are days from the day of seeding, so they are always ahead, and the ~90 days of
transactions are laid out backwards from that day, so "last month" always has some.
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
class DemoCredit:
    annual_income: Decimal
    monthly_debt_payments: Decimal
    credit_score: int
    customer_since: date


@dataclass(frozen=True)
class DemoSpending:
    """A recurring entry: posted every ``every_days`` days, from ``first_days_ago`` back to
    the start of the demo history, on an account or card named by its last four digits.
    Amounts fall between ``low`` and ``high`` (one fixed amount when they are equal);
    negative takes money out or is spent on a card."""

    merchant: str
    description: str
    category: str
    on: str
    every_days: int
    first_days_ago: int
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class DemoCustomer:
    full_name: str
    phone: str
    date_of_birth: date
    postal_code: str
    currency: str
    accounts: tuple[DemoAccount, ...]
    cards: tuple[DemoCard, ...]
    credit: DemoCredit
    spending: tuple[DemoSpending, ...] = ()


def _every(merchant, description, category, on, every_days, first_days_ago, low, high=None):
    low = Decimal(low)
    return DemoSpending(
        merchant,
        description,
        category,
        on,
        every_days,
        first_days_ago,
        low,
        Decimal(high) if high is not None else low,
    )


DEMO_HISTORY_DAYS = 90


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
        credit=DemoCredit(Decimal("98000.00"), Decimal("450.00"), 752, date(2016, 5, 2)),
        spending=(
            _every("Acme Corp", "Acme Corp payroll", "income", "3011", 14, 3, "3250.00"),
            _every("Mission Street Apartments", "Rent", "housing", "3011", 30, 20, "-2100.00"),
            _every("PG&E", "PG&E utilities", "utilities", "3011", 30, 11, "-142.80", "-86.15"),
            _every("Amazon", "Amazon.com order", "shopping", "4567", 9, 2, "-118.40", "-12.99"),
            _every("Amazon", "Amazon Marketplace", "shopping", "3011", 23, 8, "-64.20", "-15.75"),
            _every(
                "Whole Foods", "Whole Foods Market", "groceries", "4567", 6, 1, "-142.35", "-36.10"
            ),
            _every("Starbucks", "Starbucks", "coffee", "4567", 3, 0, "-8.95", "-4.45"),
            _every("Uber", "Uber trip", "transport", "4567", 8, 4, "-38.60", "-11.90"),
            _every("Netflix", "Netflix subscription", "entertainment", "4567", 30, 14, "-15.49"),
            _every("Spotify", "Spotify Premium", "entertainment", "4567", 30, 6, "-11.99"),
            _every("Shell", "Shell gas station", "fuel", "3011", 12, 5, "-61.80", "-38.25"),
            _every("", "Transfer to High-Yield Savings", "transfer", "3011", 30, 16, "-300.00"),
            _every("", "Transfer from Everyday Checking", "transfer", "3029", 30, 16, "300.00"),
            _every("", "Interest paid", "interest", "3029", 30, 1, "41.20", "43.90"),
            _every("", "Payment - thank you", "payment", "4567", 30, 18, "1050.00", "1250.00"),
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
        credit=DemoCredit(Decimal("52000.00"), Decimal("1650.00"), 618, date(2022, 9, 15)),
        spending=(
            _every(
                "Bayview Logistics", "Bayview Logistics payroll", "income", "4820", 14, 6, "1650.00"
            ),
            _every("Harbor Lofts", "Rent", "housing", "4820", 30, 24, "-1450.00"),
            _every("Comcast", "Comcast internet", "utilities", "4820", 30, 9, "-79.99"),
            _every("Amazon", "Amazon.com order", "shopping", "8899", 7, 1, "-96.30", "-9.99"),
            _every("Safeway", "Safeway", "groceries", "8899", 5, 2, "-88.40", "-21.15"),
            _every("Chevron", "Chevron gas station", "fuel", "4820", 10, 3, "-58.70", "-35.40"),
            _every("DoorDash", "DoorDash order", "dining", "8899", 6, 0, "-42.80", "-18.25"),
            _every("Target", "Target", "shopping", "8899", 19, 7, "-134.60", "-27.80"),
            _every("", "Payment - thank you", "payment", "8899", 30, 25, "85.00", "120.00"),
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
        credit=DemoCredit(Decimal("145000.00"), Decimal("300.00"), 801, date(2019, 2, 11)),
        spending=(
            _every("Lumen Health", "Lumen Health payroll", "income", "5507", 14, 5, "4800.00"),
            _every("Oakland Hills HOA", "HOA dues", "housing", "5507", 30, 12, "-385.00"),
            _every("Trader Joe's", "Trader Joe's", "groceries", "1111", 7, 1, "-96.45", "-28.30"),
            _every("Amazon", "Amazon.com order", "shopping", "1111", 11, 3, "-212.99", "-18.49"),
            _every("Apple", "Apple.com purchase", "shopping", "2222", 30, 25, "-129.00", "-2.99"),
            _every("Costco", "Costco Wholesale", "groceries", "1111", 14, 6, "-248.10", "-92.60"),
            _every("Lyft", "Lyft ride", "transport", "1111", 9, 2, "-34.20", "-9.80"),
            _every("Equinox", "Equinox membership", "fitness", "1111", 30, 8, "-185.00"),
            _every("", "Transfer to Rainy Day Savings", "transfer", "5507", 30, 13, "-1000.00"),
            _every("", "Transfer from Everyday Checking", "transfer", "5515", 30, 13, "1000.00"),
            _every("", "Payment - thank you", "payment", "1111", 30, 15, "600.00", "700.00"),
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
        credit=DemoCredit(Decimal("61000.00"), Decimal("900.00"), 715, date(2012, 10, 1)),
        spending=(
            _every("Northbridge Ltd", "Northbridge Ltd salary", "income", "6402", 30, 7, "3650.00"),
            _every("Southwark Council", "Council tax", "housing", "6402", 30, 15, "-165.00"),
            _every(
                "British Gas", "British Gas energy", "utilities", "6402", 30, 19, "-94.30", "-71.60"
            ),
            _every("Tesco", "Tesco Stores", "groceries", "7788", 4, 1, "-64.80", "-12.35"),
            _every("Amazon", "Amazon.co.uk order", "shopping", "7788", 10, 2, "-89.99", "-7.49"),
            _every(
                "Transport for London", "TfL travel", "transport", "6402", 2, 0, "-8.10", "-2.80"
            ),
            _every("Pret A Manger", "Pret A Manger", "dining", "7788", 5, 3, "-11.40", "-4.25"),
            _every("", "Payment - thank you", "payment", "7788", 30, 17, "850.00", "950.00"),
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
